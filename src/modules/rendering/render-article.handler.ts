import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { CacheInvalidator } from '../../infra/cache';
import { type JobContext, type JobHandler, untilAborted } from '../../infra/queue';
import { articleChanged, parseRenderJob, type RenderJobData } from '../articles';
import { MarkdownRenderer } from './markdown-renderer';

export type RenderResult = 'rendered' | 'already-rendered' | 'stale' | 'article-deleted';

/**
 * Applies a render job exactly once per (article, revision), however often it is delivered: the article's own
 * revision columns decide, in one transaction on the primary (no replica lag to reason about). A duplicate, a
 * job for an edited-since body, or one for a deleted article completes as a no-op.
 */
@Injectable()
export class RenderArticleHandler implements JobHandler<RenderJobData> {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly renderer: MarkdownRenderer,
    private readonly cache: CacheInvalidator,
  ) {}

  parse(data: unknown): RenderJobData {
    return parseRenderJob(data);
  }

  async handle(job: RenderJobData, context: JobContext): Promise<RenderResult> {
    const result = await untilAborted(
      this.dataSource.transaction((em) => this.apply(em, job, context)),
      context.signal,
    );
    // After the commit: readers, cached or not, see the HTML as soon as the job completes.
    if (result === 'rendered') await this.cache.invalidate(articleChanged(job.articleId));
    return result;
  }

  /** Called once the last attempt failed: the reader sees why, unless a newer revision took over meanwhile. */
  async onExhausted({ articleId, revision }: RenderJobData, error: Error): Promise<void> {
    await this.dataSource.query(
      `UPDATE articles SET render_status = 'failed', render_error = $3
        WHERE id = $1 AND revision = $2 AND (rendered_revision IS NULL OR rendered_revision < $2)`,
      [articleId, revision, error.message.slice(0, 1000)],
    );
  }

  private async apply(
    em: EntityManager,
    { articleId, revision }: RenderJobData,
    { jobId, worker, signal }: JobContext,
  ): Promise<RenderResult> {
    const [article] = await em.query<
      Array<{
        body: string;
        revision: number;
        rendered_revision: number | null;
      }>
    >(`SELECT body, revision, rendered_revision FROM articles WHERE id = $1`, [articleId]);
    if (!article) return 'article-deleted';
    // The body changed since this job was written; the job for the newer revision renders it.
    if (article.revision !== revision) return 'stale';
    if (article.rendered_revision !== null && article.rendered_revision >= revision) return 'already-rendered';

    const { html, readingTimeMinutes } = this.renderer.render(article.body);
    const update = await em.queryRunner!.query(
      `UPDATE articles
          SET render_status = 'done', rendered_revision = $2, rendered_html = $3, reading_time_minutes = $4,
              render_error = NULL, rendered_at = now()
        WHERE id = $1 AND revision = $2 AND (rendered_revision IS NULL OR rendered_revision < $2)`,
      [articleId, revision, html, readingTimeMinutes],
      true,
    );
    // A duplicate delivery rendering at the same moment got the row first; this one changes nothing.
    if (update.affected === 0) return 'already-rendered';
    await em.query(
      `INSERT INTO article_renders (article_id, revision, job_id, worker, reading_time_minutes) VALUES ($1, $2, $3, $4, $5)`,
      [articleId, revision, jobId, worker, readingTimeMinutes],
    );
    // Past the shutdown deadline the job is already back in the queue: roll back instead of committing.
    signal.throwIfAborted();
    return 'rendered';
  }
}
