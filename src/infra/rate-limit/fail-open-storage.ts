import { Logger, type OnModuleDestroy } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { CircuitBreaker, withinDeadline } from '../redis';

/**
 * Rate limits fail open: while Redis is down every request is let through (and counted in
 * rate_limit_storage_errors_total), because refusing all traffic would turn a Redis outage into a full
 * outage. Credential endpoints keep argon2's cost as their floor. A breaker skips Redis for a while after
 * repeated failures, so a hung Redis costs one timeout a second, not one per request.
 */
export class FailOpenThrottlerStorage implements ThrottlerStorage, OnModuleDestroy {
  private readonly logger = new Logger('RateLimit');
  private readonly breaker = new CircuitBreaker(3, 1000);
  private lastLogged = 0;

  constructor(
    private readonly inner: ThrottlerStorage & Partial<OnModuleDestroy>,
    private readonly onError: () => void,
    private readonly deadlineMs: number,
  ) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    name: string,
  ): Promise<ThrottlerStorageRecord> {
    const letThrough = { totalHits: 0, timeToExpire: Math.ceil(ttl / 1000), isBlocked: false, timeToBlockExpire: 0 };
    if (!this.breaker.allow()) {
      this.onError();
      return letThrough;
    }
    try {
      const record = await withinDeadline(this.inner.increment(key, ttl, limit, blockDuration, name), this.deadlineMs);
      this.breaker.success();
      return record;
    } catch (err) {
      this.breaker.failure();
      this.onError();
      if (Date.now() - this.lastLogged > 10_000) {
        this.lastLogged = Date.now();
        this.logger.warn(`rate-limit storage unavailable, letting requests through: ${(err as Error).message}`);
      }
      return letThrough;
    }
  }

  onModuleDestroy(): void {
    this.inner.onModuleDestroy?.();
  }
}
