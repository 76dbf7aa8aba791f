import { ApiProperty } from '@nestjs/swagger';
import type { UserEntity } from '../../accounts';
import type { ArticleEntity } from '../entities/article.entity';
import { RENDER_STATUSES, type RenderStatus } from '../entities/article.entity';

export class AuthorDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'Ada Lovelace' })
  name: string;
}

export class RenderSummaryDto {
  @ApiProperty({
    enum: RENDER_STATUSES,
    example: 'done',
    description: 'pending until the worker has rendered the current body',
  })
  status: RenderStatus;

  @ApiProperty({ type: Number, nullable: true, example: 3 })
  readingTimeMinutes: number | null;
}

export class RenderDto extends RenderSummaryDto {
  @ApiProperty({
    type: String,
    nullable: true,
    example: '<h1>Why replicas</h1>',
    description: 'Sanitized HTML, once done',
  })
  html: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Why rendering failed' })
  error: string | null;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The render job of the current revision: GET /jobs/{jobId}',
  })
  jobId: string | null;
}

export class ArticleSummaryDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'Scaling reads with replicas' })
  title: string;

  @ApiProperty({ type: AuthorDto })
  author: AuthorDto;

  @ApiProperty({ type: RenderSummaryDto })
  render: RenderSummaryDto;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;

  static from(a: ArticleEntity): ArticleSummaryDto {
    return {
      id: a.id,
      title: a.title,
      author: authorOf(a),
      render: { status: a.renderStatus, readingTimeMinutes: a.readingTimeMinutes },
      createdAt: a.createdAt.toISOString(),
      updatedAt: a.updatedAt.toISOString(),
    };
  }
}

export class ArticleDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'Scaling reads with replicas' })
  title: string;

  @ApiProperty({ example: '# Why replicas\n\nReads outnumber writes **100 to 1**.' })
  body: string;

  @ApiProperty({ type: AuthorDto })
  author: AuthorDto;

  @ApiProperty({ example: 1, description: 'Increases with every change of the body' })
  revision: number;

  @ApiProperty({ type: RenderDto })
  render: RenderDto;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;

  static from(a: ArticleFields): ArticleDto {
    return {
      id: a.id,
      title: a.title,
      body: a.body,
      author: authorOf(a),
      revision: a.revision,
      render: {
        status: a.renderStatus,
        readingTimeMinutes: a.readingTimeMinutes,
        html: a.renderedHtml,
        error: a.renderError,
        jobId: a.renderJobId,
      },
      createdAt: a.createdAt.toISOString(),
      updatedAt: a.updatedAt.toISOString(),
    };
  }
}

export class ArticlePageDto {
  @ApiProperty({ type: [ArticleSummaryDto] })
  items: ArticleSummaryDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as ?cursor= for the next page; null on the last page',
  })
  nextCursor: string | null;
}

/**
 * What a response needs of an article: an entity loaded with its author, or a row of the read query
 * (article-reads.ts).
 */
export type ArticleFields = Pick<
  ArticleEntity,
  | 'id'
  | 'title'
  | 'body'
  | 'revision'
  | 'renderStatus'
  | 'readingTimeMinutes'
  | 'renderedHtml'
  | 'renderError'
  | 'renderJobId'
  | 'createdAt'
  | 'updatedAt'
> & { readonly author?: Pick<UserEntity, 'id' | 'displayName'> };

function authorOf(a: Pick<ArticleFields, 'id' | 'author'>): AuthorDto {
  if (!a.author) throw new Error(`article ${a.id} was loaded without its author`);
  return { id: a.author.id, name: a.author.displayName };
}
