export { ArticlesModule } from './articles.module';
export { ArticlesService } from './articles.service';
export { ArticleEntity, type RenderStatus } from './entities/article.entity';
export { articleChanged, articleListRef, articleRef } from './article-cache';
export { ArticleDto, type ArticlePageDto, ArticleSummaryDto } from './dto/article.dto';
export { parseRenderJob, renderJob, RENDER_JOB, type RenderJobData } from './render-job';
