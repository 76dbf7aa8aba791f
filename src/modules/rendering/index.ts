export { RenderingModule } from './rendering.module';
export { renderJob, RENDER_JOB, type RenderJobData } from './render-job';
export { MarkdownRenderer } from './markdown-renderer';
