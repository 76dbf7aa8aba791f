import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { CACHE_HEADER_DOC, CacheAside } from '../../infra/cache';
import { ApiErrorDto, CanonicalUuidPipe, RequestId } from '../../infra/http';
import { Authenticated, CurrentUser, type SessionUser } from '../../infra/session';
import { ARTICLE_LISTS, articleKey, listPageKey } from './article-cache';
import { ArticlesService } from './articles.service';
import { ArticleDto, ArticlePageDto, ArticleSummaryDto } from './dto/article.dto';
import { CreateArticleDto } from './dto/create-article.dto';
import { ListArticlesQuery } from './dto/list-articles.query';
import { UpdateArticleDto } from './dto/update-article.dto';

const ArticleId = () => Param('id', new CanonicalUuidPipe());
const ApiArticleId = () => ApiParam({ name: 'id', format: 'uuid', description: 'Article id' });

@ApiTags('articles')
@ApiBadRequestResponse({ type: ApiErrorDto, description: 'Invalid input; the message names the field' })
@Controller('articles')
export class ArticlesController {
  constructor(private readonly articles: ArticlesService) {}

  @Post()
  @Authenticated()
  @ApiOperation({ summary: 'Write an article; it is rendered to HTML in the background' })
  @ApiCreatedResponse({ type: ArticleDto })
  async create(
    @CurrentUser() user: SessionUser,
    @Body() dto: CreateArticleDto,
    @RequestId() requestId: string,
  ): Promise<ArticleDto> {
    return ArticleDto.from(await this.articles.create(user.id, dto, { requestId }));
  }

  @Get()
  @CacheAside({ key: listPageKey, versionKey: () => ARTICLE_LISTS, ttlMs: (c) => c.cache.listTtlMs })
  @ApiOperation({ summary: 'Articles, newest first, one page at a time' })
  @ApiOkResponse({ type: ArticlePageDto, headers: CACHE_HEADER_DOC })
  async list(@Query() query: ListArticlesQuery): Promise<ArticlePageDto> {
    const page = await this.articles.list(query.limit, query.cursor);
    return { items: page.items.map((a) => ArticleSummaryDto.from(a)), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @CacheAside({ key: articleKey })
  @ApiArticleId()
  @ApiOperation({ summary: 'One article, with its rendered HTML once the worker is done' })
  @ApiOkResponse({ type: ArticleDto, headers: CACHE_HEADER_DOC })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  async get(@ArticleId() id: string): Promise<ArticleDto> {
    return this.articles.get(id);
  }

  @Patch(':id')
  @Authenticated()
  @ApiArticleId()
  @ApiOperation({ summary: 'Change the title or body (author only)' })
  @ApiOkResponse({ type: ArticleDto })
  @ApiForbiddenResponse({ type: ApiErrorDto, description: 'Not the author' })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  async update(
    @ArticleId() id: string,
    @CurrentUser() user: SessionUser,
    @Body() dto: UpdateArticleDto,
    @RequestId() requestId: string,
  ): Promise<ArticleDto> {
    return ArticleDto.from(await this.articles.update(id, user.id, dto, { requestId }));
  }

  @Delete(':id')
  @Authenticated()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiArticleId()
  @ApiOperation({ summary: 'Delete an article (author only)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiForbiddenResponse({ type: ApiErrorDto, description: 'Not the author' })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  async remove(@ArticleId() id: string, @CurrentUser() user: SessionUser): Promise<void> {
    await this.articles.remove(id, user.id);
  }
}
