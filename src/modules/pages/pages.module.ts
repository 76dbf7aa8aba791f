import { Module } from '@nestjs/common';
import { ArticlesModule } from '../articles';
import { PageRenderer } from './page-renderer';
import { PagesController } from './pages.controller';

/** The web tier's HTML, cacheable at the edge and purged on change (see docs/gateway.md). */
@Module({
  imports: [ArticlesModule],
  controllers: [PagesController],
  providers: [PageRenderer],
  exports: [PageRenderer],
})
export class PagesModule {}
