export { RenderingModule } from './rendering.module';
export { MarkdownRenderer } from './markdown-renderer';
