import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config';
import { CircuitBreaker, RedisConnection } from '../redis';
import { CacheAsideReader } from './cache-aside-reader';
import { CacheAsideInterceptor } from './cache-aside.interceptor';
import { CacheInvalidator } from './cache-invalidator';
import { CACHE_STORE } from './cache.tokens';
import { VersionedCacheStore } from './versioned-cache-store';

const CACHE_REDIS = Symbol('CACHE_REDIS');

// Three failures in a row open the breaker for a second: a hung Redis costs one timeout a second, not one a request.
const BREAKER_THRESHOLD = 3;
const BREAKER_COOL_DOWN_MS = 1000;

/**
 * Cache-aside on its own Redis connection, with a command timeout of CACHE_TIMEOUT_MS (far shorter than the
 * sessions'): a slow cache must cost a request milliseconds, then be bypassed.
 */
@Global()
@Module({
  providers: [
    {
      provide: CACHE_REDIS,
      inject: [APP_CONFIG],
      useFactory: (c: AppConfig) => new RedisConnection({ url: c.cache.redisUrl, name: `${c.instanceId}:cache`, commandTimeoutMs: c.cache.timeoutMs }),
    },
    {
      provide: CACHE_STORE,
      inject: [CACHE_REDIS, APP_CONFIG],
      useFactory: (redis: RedisConnection, c: AppConfig) =>
        new VersionedCacheStore(redis.client, new CircuitBreaker(BREAKER_THRESHOLD, BREAKER_COOL_DOWN_MS), c.cache.timeoutMs),
    },
    CacheAsideReader,
    CacheInvalidator,
    CacheAsideInterceptor,
  ],
  exports: [CacheAsideReader, CacheInvalidator, CacheAsideInterceptor],
})
export class CacheModule {}
