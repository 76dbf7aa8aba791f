import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '../../config';

// The repository's static/ folder, from src/infra/http (tests) and dist/infra/http (built) alike.
export const STATIC_ROOT = join(__dirname, '..', '..', '..', 'static');

/** /static/*: public, long-lived Cache-Control with ETag and Last-Modified, for browsers and the edge cache. */
export async function registerStaticAssets(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  await app.register(fastifyStatic, {
    root: STATIC_ROOT,
    prefix: '/static/',
    // Swagger registers its own instance; only one may decorate the reply.
    decorateReply: false,
    cacheControl: true,
    maxAge: config.http.staticMaxAgeSeconds * 1000,
    etag: true,
    lastModified: true,
    index: false,
    list: false,
  });
}
