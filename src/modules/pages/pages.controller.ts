import { Controller, Get, HttpException, NotFoundException, Param, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { isUUID } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AppConfig, InjectConfig } from '../../config';
import { CacheAsideReader, type CacheOutcome } from '../../infra/cache';
import { canonicalUuid } from '../../infra/http';
import { type ArticlePageDto, ArticleSummaryDto, articleListRef, articleRef, ArticlesService } from '../articles';
import { errorPage, PageRenderer, type PageTemplate, sharedAtTheEdge } from './page-renderer';

const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' });

/**
 * The reader-facing HTML: the newest articles and one article. The data comes through the same cache-aside entries
 * as the JSON API's (`article:<id>`, the list pages), so the fill that follows a write reads at least that write's
 * WAL position: a lagging replica cannot put the old article into a freshly purged edge cache. Every failure a
 * reader can cause is an HTML error page with its status, never a 500.
 */
@ApiExcludeController()
@Controller()
export class PagesController {
  constructor(
    private readonly articles: ArticlesService,
    private readonly cache: CacheAsideReader,
    private readonly pages: PageRenderer,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Get()
  async front(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query('cursor') cursor?: unknown,
  ): Promise<string> {
    return this.render(request, reply, async () => {
      if (cursor !== undefined && (typeof cursor !== 'string' || cursor.length > 200))
        throw new HttpException('That page link is not valid.', 400);
      const page = await this.cache.read<ArticlePageDto>(
        articleListRef(cursor),
        this.config.cache.listTtlMs,
        async () => {
          const { items, nextCursor } = await this.articles.list(undefined, cursor);
          return { items: items.map((a) => ArticleSummaryDto.from(a)), nextCursor };
        },
        mark(reply),
        { sharedDownstream: sharedAtTheEdge(request) },
      );
      const items = page.items.map((a) => ({ id: a.id, title: a.title, ...byline(a) }));
      const next = page.nextCursor === null ? null : `/?cursor=${encodeURIComponent(page.nextCursor)}`;
      return ['front', { items, next }];
    });
  }

  @Get('a/:id')
  async article(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('id') id: string,
  ): Promise<string> {
    // One URL per article: `/a/<UPPER>` or a percent-encoded id would be another edge-cache copy that no purge names.
    // (Status and Location only: Nest sends the reply, once.)
    const canonical = isUUID(id) ? `/a/${canonicalUuid(id)}` : undefined;
    if (canonical && request.url.split('?', 1)[0] !== canonical) {
      void reply.code(301).header('location', canonical);
      return '';
    }
    return this.render(request, reply, async () => {
      if (!isUUID(id)) throw new NotFoundException();
      const a = await this.cache.read(
        articleRef(id),
        this.config.cache.ttlMs,
        () => this.articles.get(id),
        mark(reply),
        { sharedDownstream: sharedAtTheEdge(request) },
      );
      const html = a.render.status === 'done' ? a.render.html : null;
      return ['article', { title: a.title, status: a.render.status, html, ...byline(a) }];
    });
  }

  private async render(
    request: FastifyRequest,
    reply: FastifyReply,
    load: () => Promise<[PageTemplate, object]>,
  ): Promise<string> {
    let page: [PageTemplate, object];
    try {
      page = await load();
    } catch (err) {
      // 5xx (a database outage) goes to the JSON error filter, with its Retry-After; reader mistakes get a page.
      if (!(err instanceof HttpException) || err.getStatus() >= 500) throw err;
      return this.pages.send(request, reply, 'error', errorPage(err.getStatus()), err.getStatus());
    }
    return this.pages.send(request, reply, page[0], page[1]);
  }
}

const mark = (reply: FastifyReply) => (outcome: CacheOutcome) => void reply.header('x-cache', outcome);

function byline(a: Pick<ArticleSummaryDto, 'author' | 'createdAt' | 'render'>) {
  return {
    author: a.author.name,
    createdAt: a.createdAt,
    date: dateFormat.format(new Date(a.createdAt)),
    readingTime: a.render.readingTimeMinutes ? `${a.render.readingTimeMinutes} min read` : null,
  };
}
