import { BadRequestException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, type EntityManager, Repository } from 'typeorm';
import { CacheInvalidator } from '../../infra/cache';
import { OutboxWriter } from '../../infra/queue';
import { articleChanged } from './article-cache';
import { ARTICLE_BY_ID, articleDtoOf, type ArticleRow } from './article-reads';
import { decodeCursor, encodeCursor, InvalidCursorError, type ArticleCursor } from './article-cursor';
import type { ArticleDto } from './dto/article.dto';
import type { CreateArticleDto } from './dto/create-article.dto';
import { DEFAULT_PAGE_SIZE } from './dto/list-articles.query';
import type { UpdateArticleDto } from './dto/update-article.dto';
import { ArticleEntity } from './entities/article.entity';
import { renderJob } from './render-job';

/** Where a write came from, carried into the jobs it causes. */
export interface WriteContext {
  readonly requestId?: string;
}

export interface ArticlePage {
  readonly items: ArticleEntity[];
  readonly nextCursor: string | null;
}

@Injectable()
export class ArticlesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(ArticleEntity) private readonly articles: Repository<ArticleEntity>,
    private readonly outbox: OutboxWriter,
    private readonly cache: CacheInvalidator,
  ) {}

  async create(
    authorId: string,
    { title, body }: CreateArticleDto,
    context: WriteContext = {},
  ): Promise<ArticleEntity> {
    const article = await this.dataSource.transaction(async (em) => {
      const { id, revision } = await em.save(em.create(ArticleEntity, { authorId, title, body }));
      await this.requestRender(em, id, revision, context);
      return this.loadWithAuthor(em, id);
    });
    // After the commit, before the response: once a write has returned, no cached page (or cached 404) may hide it.
    await this.cache.invalidate(articleChanged(article.id));
    return article;
  }

  /** Newest first, by keyset on (created_at, id): every page costs one index range scan, however deep. */
  async list(limit = DEFAULT_PAGE_SIZE, cursor?: string): Promise<ArticlePage> {
    const after = cursor === undefined ? undefined : parseCursor(cursor);
    const query = this.articles
      .createQueryBuilder('a')
      .innerJoin('a.author', 'u')
      .select([
        'a.id',
        'a.title',
        'a.renderStatus',
        'a.readingTimeMinutes',
        'a.createdAt',
        'a.updatedAt',
        'u.id',
        'u.displayName',
      ])
      .orderBy('a.createdAt', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .limit(limit + 1);
    if (after) query.where('(a.created_at, a.id) < (:createdAt, :id)', { createdAt: after.createdAt, id: after.id });
    const rows = await query.getMany();
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /** The response for one article, read on a replica (or wherever the request's consistency sends it). */
  async get(id: string): Promise<ArticleDto> {
    const runner = this.dataSource.createQueryRunner(this.dataSource.defaultReplicationModeForReads());
    try {
      const [row] = (await runner.query(ARTICLE_BY_ID, [id])) as ArticleRow[];
      if (!row) throw new NotFoundException('article not found');
      return articleDtoOf(row);
    } finally {
      await runner.release();
    }
  }

  async update(id: string, userId: string, dto: UpdateArticleDto, context: WriteContext = {}): Promise<ArticleEntity> {
    const article = await this.applyUpdate(id, userId, dto, context);
    await this.cache.invalidate(articleChanged(id));
    return article;
  }

  async remove(id: string, userId: string): Promise<void> {
    await this.dataSource.transaction(async (em) => {
      await this.lockOwned(em, id, userId);
      await em.delete(ArticleEntity, { id });
    });
    await this.cache.invalidate(articleChanged(id));
  }

  private applyUpdate(
    id: string,
    userId: string,
    { title, body }: UpdateArticleDto,
    context: WriteContext,
  ): Promise<ArticleEntity> {
    if (title === undefined && body === undefined) throw new BadRequestException('send title, body, or both');
    return this.dataSource.transaction(async (em) => {
      const article = await this.lockOwned(em, id, userId);
      if (title !== undefined) article.title = title;
      const bodyChanged = body !== undefined && body !== article.body;
      if (bodyChanged) {
        article.body = body;
        article.revision += 1;
        article.renderStatus = 'pending';
        article.renderedHtml = null;
        article.readingTimeMinutes = null;
        article.renderError = null;
      }
      await em.save(article);
      if (bodyChanged) await this.requestRender(em, id, article.revision, context);
      return this.loadWithAuthor(em, id);
    });
  }

  /** The render job commits with the write that needs it (transactional outbox): no write without its job, no job without its write. */
  private async requestRender(
    em: EntityManager,
    articleId: string,
    revision: number,
    { requestId }: WriteContext,
  ): Promise<void> {
    const jobId = await this.outbox.enqueue(em, renderJob({ articleId, revision, requestId }));
    await em.update(ArticleEntity, { id: articleId }, { renderJobId: jobId });
  }

  /** Row lock first, then the ownership check: a concurrent edit cannot slip between the check and the write. */
  private async lockOwned(em: EntityManager, id: string, userId: string): Promise<ArticleEntity> {
    const article = await em.findOne(ArticleEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!article) throw new NotFoundException('article not found');
    if (article.authorId !== userId) throw new ForbiddenException('only the author can change this article');
    return article;
  }

  /**
   * One article and its author in one query. Not findOne: with a relation, TypeORM turns its `take: 1` into two
   * round trips (a SELECT DISTINCT of the ids, then the rows). A primary key and a many-to-one join give at most
   * one row without a LIMIT, so `find` says the same thing in one query (docs/benchmarks.md).
   */
  private async loadWithAuthor(em: EntityManager, id: string): Promise<ArticleEntity> {
    const [article] = await em.find(ArticleEntity, { where: { id }, relations: { author: true } });
    if (!article) throw new Error(`article ${id} vanished inside its own transaction`);
    return article;
  }
}

function parseCursor(cursor: string): ArticleCursor {
  try {
    return decodeCursor(cursor);
  } catch (err) {
    if (err instanceof InvalidCursorError) throw new BadRequestException(err.message);
    throw err;
  }
}
