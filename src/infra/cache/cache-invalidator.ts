import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { type AppConfig, InjectConfig } from '../../config';
import { currentPrimaryLsn } from '../database';
import { InjectMetrics } from '../observability';
import { CACHE_STORE } from './cache.tokens';
import { READ_FROM_PRIMARY, type VersionedCacheStore } from './versioned-cache-store';

/** What a write changed: entries to drop, and version counters to bump (an entity's own, a list group's). */
export interface CacheTarget {
  readonly keys: readonly string[];
  readonly versionKeys: readonly string[];
}

const RETRY_MS = 500;

/**
 * Invalidation on write, after the transaction commits and before the write returns (delete, not update,
 * as Facebook's memcache does). While Redis is unreachable the entries cannot be served either (reads
 * bypass); the invalidation is kept and retried, so it lands as soon as Redis answers again.
 */
@Injectable()
export class CacheInvalidator implements OnApplicationShutdown {
  private readonly logger = new Logger('CacheInvalidator');
  private readonly pending: CacheTarget[] = [];
  private retryTimer?: NodeJS.Timeout;
  private readonly invalidations: Counter<'result'>;

  constructor(
    @Inject(CACHE_STORE) private readonly store: VersionedCacheStore,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
    @InjectMetrics() metrics: Registry,
  ) {
    this.invalidations = new Counter({
      name: 'cache_invalidations_total',
      help: 'Invalidations after a write, by result (done, deferred while Redis was unreachable)',
      labelNames: ['result'],
      registers: [metrics],
    });
  }

  /** Call after commit, never inside the transaction: a reader could refill from the old row before it commits. */
  async invalidate(target: CacheTarget): Promise<void> {
    if (await this.apply(target)) return void this.invalidations.inc({ result: 'done' });
    this.invalidations.inc({ result: 'deferred' });
    this.pending.push(target);
    this.retryTimer ??= setInterval(() => void this.retry(), RETRY_MS);
  }

  onApplicationShutdown(): void {
    if (this.pending.length) this.logger.warn(`${this.pending.length} invalidation(s) could not reach Redis before shutdown`);
    clearInterval(this.retryTimer);
  }

  private async apply({ keys, versionKeys }: CacheTarget): Promise<boolean> {
    // The position after this commit: the next fill must read a replica that has replayed it, or the primary.
    // Unknown (the primary did not answer just after the commit): without a floor a lagging replica could refill the old row.
    const lsn = await currentPrimaryLsn(this.dataSource).catch(() => READ_FROM_PRIMARY);
    return this.store.invalidate(keys, versionKeys, lsn, this.config.cache.markerMs);
  }

  private async retry(): Promise<void> {
    while (this.pending.length) {
      if (!(await this.apply(this.pending[0]!))) return;
      this.pending.shift();
    }
    this.logger.log('deferred invalidations reached Redis');
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
  }
}
