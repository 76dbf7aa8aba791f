import 'reflect-metadata';
import { Controller, Get, Global, type DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { readFileSync } from 'node:fs';

/**
 * The cache benchmark's reference: a bare Nest 12 on Fastify app whose `GET /articles/:id` returns the
 * article the API serves from its cache, byte for byte (Fastify serializes the object, as it does any Nest
 * handler's return value). It is the floor for "answer this JSON with Nest on Fastify": the same framework,
 * router, controller dispatch and serializer as the API, and none of the API's per-request work: no database,
 * no Redis, no helmet, CORS or cross-site guard, no session plugin, no rate-limit guard, no request-id and
 * served-by stamps, no Cache-Control policy, no metrics hook, no request logging (Nest's logger is off).
 *
 * Given a Redis URL, the same handler carries the project's @CacheAside (the real CacheModule from dist/, on
 * that Redis, with the API's key for the article): every request is then a hit on the entry the API stored,
 * so the difference to the bare handler is the cache layer's own cost and nothing else of the API's.
 * Usage: tsx bench/bare-nest-handler.ts <port> <file with the article's JSON> [<redis url>]
 */
const port = Number(process.argv[2]);
const article: unknown = JSON.parse(readFileSync(process.argv[3]!, 'utf8'));
const redisUrl = process.argv[4];

@Controller('articles')
class BareArticlesController {
  @Get(':id')
  get(): unknown {
    return article;
  }
}

/** The same handler under the project's CacheModule; loaded only in that mode, so the bare process stays bare. */
function cachedModule(url: string): DynamicModule {
  // The code the API runs: tsc's output in dist/ (npm run build), as the other benchmarks load it.
  const { CacheAside, CacheModule } = require('../dist/infra/cache/index.js') as typeof import('../src/infra/cache');
  const { ConfigModule, loadConfig } = require('../dist/config/index.js') as typeof import('../src/config');
  const { RedisModule } = require('../dist/infra/redis/index.js') as typeof import('../src/infra/redis');
  const { METRICS_REGISTRY } =
    require('../dist/infra/observability/metrics.js') as typeof import('../src/infra/observability/metrics');
  const { articleKey } =
    require('../dist/modules/articles/article-cache.js') as typeof import('../src/modules/articles/article-cache');
  const { getDataSourceToken } = require('@nestjs/typeorm') as typeof import('@nestjs/typeorm');
  const { Registry } = require('prom-client') as typeof import('prom-client');

  @Controller('articles')
  class CachedArticlesController {
    @Get(':id')
    @CacheAside({ key: articleKey })
    get(): unknown {
      return article;
    }
  }

  // What CacheModule expects from the app around it; the DataSource is only used by writes (invalidation after commit).
  const config = loadConfig({
    REDIS_URL: url,
    NODE_ENV: 'production',
    SESSION_SECRET: 'x'.repeat(32),
    INSTANCE_ID: 'bare-cache',
  });
  @Global()
  @Module({
    imports: [ConfigModule.forRoot(config), RedisModule],
    providers: [
      { provide: METRICS_REGISTRY, useValue: new Registry() },
      { provide: getDataSourceToken(), useValue: {} },
    ],
    exports: [METRICS_REGISTRY, getDataSourceToken()],
  })
  class CacheHostModule {}

  @Module({ imports: [CacheHostModule, CacheModule], controllers: [CachedArticlesController] })
  class CachedModule {}
  return { module: CachedModule };
}

@Module({ controllers: [BareArticlesController] })
class BareModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(
    redisUrl ? cachedModule(redisUrl) : BareModule,
    new FastifyAdapter(),
    { logger: false },
  );
  app.enableShutdownHooks();
  await app.listen({ port, host: '127.0.0.1' });
  console.log(`bare Nest handler${redisUrl ? ' with @CacheAside' : ''} listening on ${port}`);
}

void main();
