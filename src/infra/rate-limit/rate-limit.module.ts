import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { type ThrottlerModuleOptions, ThrottlerModule } from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../../config';
import { METRICS_REGISTRY } from '../observability';
import { RedisConnections } from '../redis';
import { FailOpenThrottlerStorage } from './fail-open-storage';
import { LocallySyncedStorage } from './locally-synced-storage';
import { RateLimitGuard } from './rate-limit.guard';
import { ExactRedisStorage, RedisWindow } from './redis-window';
import { SplitThrottlerStorage } from './split-storage';
import { strictRateLimitOf } from './strict-rate-limit.decorator';

const ACCOUNT_LIMIT = 'auth-account';

/**
 * Limits held in Redis, so they hold across every API instance. The client IP is Fastify's
 * trustProxy-aware request.ip: X-Forwarded-For counts only when the gateway sent it.
 */
@Module({})
export class RateLimitModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (!config.rateLimit.enabled) return { module: RateLimitModule };
    return {
      module: RateLimitModule,
      imports: [
        ThrottlerModule.forRootAsync({
          inject: [APP_CONFIG, METRICS_REGISTRY, RedisConnections],
          useFactory: throttlerOptions,
        }),
      ],
      providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
    };
  }
}

function throttlerOptions(config: AppConfig, registry: Registry, redis: RedisConnections): ThrottlerModuleOptions {
  const { windowMs, max, authWindowMs, authIpMax, authAccountMax, syncMs } = config.rateLimit;
  const storageErrors = new Counter({
    name: 'rate_limit_storage_errors_total',
    help: 'Rate-limit checks let through, and syncs of the general limit that failed, because Redis was unavailable',
    registers: [registry],
  });
  const window = new RedisWindow(redis.client('rate-limit'));
  const deadlineMs = redis.deadlineMs('rate-limit');
  const exact = new FailOpenThrottlerStorage(new ExactRedisStorage(window), () => storageErrors.inc(), deadlineMs);
  // The general limit is checked locally and synced every syncMs (its error bound: locally-synced-storage.ts);
  // the credential limits, and every limit when RATE_LIMIT_SYNC_MS=0, are a Redis round trip per check.
  const general =
    syncMs > 0
      ? new LocallySyncedStorage(window, exact, {
          syncMs,
          deadlineMs,
          maxLocalWindows: 100_000,
          onSyncError: () => storageErrors.inc(),
        })
      : exact;
  return {
    storage: new SplitThrottlerStorage({ default: general }, exact),
    generateKey: bucketKey,
    throttlers: [
      { name: 'default', ttl: windowMs, limit: max },
      { name: 'auth-ip', ttl: authWindowMs, limit: authIpMax, skipIf: (ctx) => !strictRateLimitOf(ctx) },
      {
        name: ACCOUNT_LIMIT,
        ttl: authWindowMs,
        limit: authAccountMax,
        skipIf: (ctx) => !strictRateLimitOf(ctx)?.account,
        getTracker: (req, ctx) =>
          `account:${strictRateLimitOf(ctx)?.account?.(req as never) ?? `ip:${(req as { ip: string }).ip}`}`,
      },
    ],
  };
}

/**
 * One bucket per (limit, client) across all routes; the library's default gives each route its own budget. A client
 * IP is kept as is, as in the access log (a SHA-256 on every request was 3 % of a cached read); the account limit's
 * tracker is an email address, which is hashed so that no address sits in Redis or in memory as a key.
 */
export function bucketKey(_context: unknown, tracker: string, name: string): string {
  return name === ACCOUNT_LIMIT
    ? `${name}:${createHash('sha256').update(tracker).digest('hex')}`
    : `${name}:${tracker}`;
}
