export { ArticlesModule } from './articles.module';
export { ArticleEntity, type RenderStatus } from './entities/article.entity';
export { articleChanged } from './article-cache';
export { parseRenderJob, renderJob, RENDER_JOB, type RenderJobData } from './render-job';
