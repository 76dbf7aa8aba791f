import { ArticleDto, type ArticleFields } from './dto/article.dto';

/**
 * GET /articles/:id and the article page on a cache miss (or with the cache off) read this one statement, with
 * aliases that are ArticleFields' names. Written as SQL rather than through TypeORM's query builder, which built
 * the query and hydrated two entities for every read: with the routing driver, about as much CPU as the rest
 * of the request (docs/benchmarks.md). It selects only what the response shows; bench/bare-nest-handler.ts
 * runs the same statement and mapping as the reference.
 */
export const ARTICLE_BY_ID = `
SELECT a.id, a.title, a.body, a.revision, a.render_status AS "renderStatus",
       a.reading_time_minutes AS "readingTimeMinutes", a.rendered_html AS "renderedHtml",
       a.render_error AS "renderError", a.render_job_id AS "renderJobId",
       a.created_at AS "createdAt", a.updated_at AS "updatedAt",
       u.id AS "authorId", u.display_name AS "authorName"
  FROM articles a JOIN users u ON u.id = a.author_id
 WHERE a.id = $1`;

export interface ArticleRow extends Omit<ArticleFields, 'author'> {
  readonly authorId: string;
  readonly authorName: string;
}

export function articleDtoOf(row: ArticleRow): ArticleDto {
  return ArticleDto.from({ ...row, author: { id: row.authorId, displayName: row.authorName } });
}
