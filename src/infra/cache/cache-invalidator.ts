import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { type AppConfig, InjectConfig } from '../../config';
import { currentPrimaryLsn } from '../database';
import { InjectMetrics } from '../observability';
import { CACHE_STORE } from './cache.tokens';
import { EdgePurger } from './edge-purger';
import { READ_FROM_PRIMARY, type VersionedCacheStore } from './versioned-cache-store';

/** What a write changed: entries to drop, version counters to bump (an entity's own, a list group's), and pages. */
export interface CacheTarget {
  readonly keys: readonly string[];
  readonly versionKeys: readonly string[];
  /** Page paths to purge from the edge caches (exact, or a prefix ending in `*`). */
  readonly pages?: readonly string[];
}

const RETRY_MS = 500;

/**
 * Invalidation on write, after the transaction commits and before the write returns (delete, not update,
 * as Facebook's memcache does), in Redis and, for the pages a write changed, in the edge caches (EdgePurger). While Redis is unreachable the entries cannot be served either (reads
 * bypass); the invalidation is kept and retried, so it lands as soon as Redis answers again.
 *
 * The deferred ones are merged into two sets (a key dropped or a counter bumped twice is the same as once), and
 * one retry pass at a time sends them all in one MULTI; a pass removes only what it sent, once Redis took it, so
 * whatever was deferred during the pass waits for the next one.
 */
@Injectable()
export class CacheInvalidator implements OnApplicationShutdown {
  private readonly logger = new Logger('CacheInvalidator');
  private readonly pendingKeys = new Set<string>();
  private readonly pendingVersionKeys = new Set<string>();
  private readonly pendingPages = new Set<string>();
  /** Set from the moment a pass is scheduled until it has finished: at most one pass, ever, at a time. */
  private retryTimer?: NodeJS.Timeout;
  private stopped = false;
  private readonly invalidations: Counter<'result'>;

  constructor(
    @Inject(CACHE_STORE) private readonly store: VersionedCacheStore,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
    private readonly edge: EdgePurger,
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
    const applied = await this.apply(target);
    // Redis first, then the edge: a page fetched between the two would be rebuilt from the old Redis entry.
    await this.edge.purge(target.pages ?? []);
    if (applied) return void this.invalidations.inc({ result: 'done' });
    this.invalidations.inc({ result: 'deferred' });
    for (const k of target.keys) this.pendingKeys.add(k);
    for (const k of target.versionKeys) this.pendingVersionKeys.add(k);
    // The old entry is still in Redis: once it is gone, the pages built from it meanwhile are purged again.
    for (const p of target.pages ?? []) this.pendingPages.add(p);
    this.scheduleRetry();
  }

  /** Deferred keys and version counters not yet in Redis. */
  get pending(): number {
    return this.pendingKeys.size + this.pendingVersionKeys.size;
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.pending)
      this.logger.warn(`${this.pending} deferred invalidation key(s) could not reach Redis before shutdown`);
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private async apply({ keys, versionKeys }: CacheTarget): Promise<boolean> {
    // The position after this commit: the next fill must read a replica that has replayed it, or the primary.
    // Unknown (the primary did not answer just after the commit): without a floor a lagging replica could refill the old row.
    const lsn = await currentPrimaryLsn(this.dataSource).catch(() => READ_FROM_PRIMARY);
    return this.store.invalidate(keys, versionKeys, lsn, this.config.cache.markerMs);
  }

  /** One pass at a time: the next is scheduled only when this one has finished (a timeout chain, not an interval). */
  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => void this.retry(), RETRY_MS);
  }

  private async retry(): Promise<void> {
    const batch = {
      keys: [...this.pendingKeys],
      versionKeys: [...this.pendingVersionKeys],
      pages: [...this.pendingPages],
    };
    let applied: boolean;
    try {
      applied = await this.apply(batch);
    } finally {
      this.retryTimer = undefined;
    }
    if (applied) {
      for (const k of batch.keys) this.pendingKeys.delete(k);
      for (const k of batch.versionKeys) this.pendingVersionKeys.delete(k);
      for (const p of batch.pages) this.pendingPages.delete(p);
      await this.edge.purge(batch.pages);
      if (!this.pending) return void this.logger.log('deferred invalidations reached Redis');
    }
    this.scheduleRetry();
  }
}
