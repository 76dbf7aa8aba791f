export { ArticlesModule } from './articles.module';
export { ArticleEntity, type RenderStatus } from './entities/article.entity';
