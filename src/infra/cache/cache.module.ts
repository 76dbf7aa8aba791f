import { Global, Module } from '@nestjs/common';
import { CircuitBreaker, RedisConnections } from '../redis';
import { CacheAsideReader } from './cache-aside-reader';
import { CacheAsideInterceptor } from './cache-aside.interceptor';
import { CacheInvalidator } from './cache-invalidator';
import { CACHE_STORE } from './cache.tokens';
import { EdgePurger } from './edge-purger';
import { VersionedCacheStore } from './versioned-cache-store';

// Three failures in a row open the breaker for a second: a hung Redis costs one timeout a second, not one a request.
const BREAKER_THRESHOLD = 3;
const BREAKER_COOL_DOWN_MS = 1000;

/**
 * Cache-aside on its own Redis connection (RedisConnections' 'cache' client), with a reply deadline of CACHE_TIMEOUT_MS (far shorter than the
 * sessions'): a slow cache must cost a request milliseconds, then be bypassed.
 */
@Global()
@Module({
  providers: [
    {
      provide: CACHE_STORE,
      inject: [RedisConnections],
      useFactory: (redis: RedisConnections) =>
        new VersionedCacheStore(
          redis.client('cache'),
          new CircuitBreaker(BREAKER_THRESHOLD, BREAKER_COOL_DOWN_MS),
          redis.deadlineMs('cache'),
        ),
    },
    CacheAsideReader,
    CacheInvalidator,
    CacheAsideInterceptor,
    EdgePurger,
  ],
  exports: [CacheAsideReader, CacheInvalidator, CacheAsideInterceptor],
})
export class CacheModule {}
