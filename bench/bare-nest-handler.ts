import 'reflect-metadata';
import { Controller, Get, Global, type DynamicModule, Module, NotFoundException, Param } from '@nestjs/common';
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
 * Given `--pg <database url>` instead, the handler reads the article from that database on every request, with
 * one `pg` pool query of the API's own statement (the article joined to its author, by primary key,
 * src/modules/articles/article-reads.ts) and the API's own mapping to ArticleDto: the
 * floor for "one primary-key read, as JSON, with Nest on Fastify", against which the API's cache-off read is set.
 * Usage: tsx bench/bare-nest-handler.ts <port> <file with the article's JSON> [<redis url> | --pg <database url>]
 */
const port = Number(process.argv[2]);
const article: unknown = JSON.parse(readFileSync(process.argv[3]!, 'utf8'));
const pgUrl = process.argv[4] === '--pg' ? process.argv[5] : undefined;
const redisUrl = pgUrl ? undefined : process.argv[4];

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

/** The same route reading the database every time: one pooled `pg` query, the API's own statement and mapping. */
function pgModule(url: string): DynamicModule {
  const { Pool } = require('pg') as typeof import('pg');
  const { ARTICLE_BY_ID, articleDtoOf } =
    require('../dist/modules/articles/article-reads.js') as typeof import('../src/modules/articles/article-reads');
  // The API's pool size (DB_POOL_SIZE's default), so the two wait for connections alike.
  const pool = new Pool({ connectionString: url, max: 10 });

  @Controller('articles')
  class PgArticlesController {
    @Get(':id')
    async get(@Param('id') id: string): Promise<unknown> {
      const { rows } = await pool.query<Parameters<typeof articleDtoOf>[0]>(ARTICLE_BY_ID, [id]);
      const row = rows[0];
      if (!row) throw new NotFoundException();
      return articleDtoOf(row);
    }
  }

  @Module({ controllers: [PgArticlesController] })
  class PgModule {}
  return { module: PgModule };
}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(
    pgUrl ? pgModule(pgUrl) : redisUrl ? cachedModule(redisUrl) : BareModule,
    new FastifyAdapter(),
    { logger: false },
  );
  app.enableShutdownHooks();
  await app.listen({ port, host: '127.0.0.1' });
  console.log(
    `bare Nest handler${redisUrl ? ' with @CacheAside' : pgUrl ? ' reading with pg' : ''} listening on ${port}`,
  );
}

void main();
