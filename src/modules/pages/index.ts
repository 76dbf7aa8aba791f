export { PagesModule } from './pages.module';
export { PageRenderer } from './page-renderer';
