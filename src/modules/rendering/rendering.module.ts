import { Module, type OnModuleInit } from '@nestjs/common';
import { QueueConsumers, RENDER_QUEUE } from '../../infra/queue';
import { MarkdownRenderer } from './markdown-renderer';
import { RenderArticleHandler } from './render-article.handler';

/** The worker side of rendering: consumes the render queue. The API only writes render jobs (see renderJob). */
@Module({ providers: [MarkdownRenderer, RenderArticleHandler] })
export class RenderingModule implements OnModuleInit {
  constructor(
    private readonly consumers: QueueConsumers,
    private readonly handler: RenderArticleHandler,
  ) {}

  onModuleInit(): void {
    this.consumers.register(RENDER_QUEUE, this.handler);
  }
}
