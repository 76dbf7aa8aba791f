import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, type Registry } from 'prom-client';
import { type AppConfig, InjectConfig } from '../../config';
import { readFromPrimary, runWithMinLsn } from '../database';
import { InjectMetrics } from '../observability';
import { CACHE_STORE } from './cache.tokens';
import {
  type CachedResponse,
  type CacheRef,
  type Lookup,
  READ_FROM_PRIMARY,
  type VersionedCacheStore,
} from './versioned-cache-store';

export type CacheOutcome = 'HIT' | 'MISS' | 'BYPASS';

const LEASE_POLL_MS = 25;

type Miss = Extract<Lookup, { kind: 'miss' }>;
type Waited = Extract<Lookup, { kind: 'hit' }> | { readonly kind: 'lease' | 'gave up'; readonly lookup: Miss };

/**
 * The cache-aside read path. A hit costs one Redis round trip; a miss takes a lease, so N concurrent
 * misses for one key across all instances cause one database load while the others wait briefly for its
 * value. A fill after a recent write reads at least as fresh as that write (its WAL position), so a
 * lagging replica cannot put the old row back.
 */
@Injectable()
export class CacheAsideReader {
  private readonly requests: Record<CacheOutcome, Counter.Internal>;
  private readonly loads: Counter;
  private readonly leaseWaits: Counter;
  private readonly staleSetsRefused: Counter;

  constructor(
    @Inject(CACHE_STORE) private readonly store: VersionedCacheStore,
    @InjectConfig() private readonly config: AppConfig,
    @InjectMetrics() metrics: Registry,
  ) {
    const registers = [metrics];
    const requests = new Counter({
      name: 'cache_requests_total',
      help: 'Cache-aside reads by result (hit, miss, bypass)',
      labelNames: ['result'],
      registers,
    });
    // Bound once: no label lookup on the hit path, and every series is exported from the start, at 0.
    this.requests = { HIT: requests.labels('hit'), MISS: requests.labels('miss'), BYPASS: requests.labels('bypass') };
    this.loads = new Counter({
      name: 'cache_loads_total',
      help: 'Database loads made to fill the cache (one per lease)',
      registers,
    });
    this.leaseWaits = new Counter({
      name: 'cache_lease_waits_total',
      help: 'Misses that waited for another loader instead of loading',
      registers,
    });
    this.staleSetsRefused = new Counter({
      name: 'cache_stale_sets_refused_total',
      help: 'Fills not stored because the entry was invalidated while loading',
      registers,
    });
  }

  async serve(
    ref: CacheRef,
    ttlMs: number,
    load: () => Promise<unknown>,
    mark: (o: CacheOutcome) => void,
    reply: FastifyReply,
  ): Promise<unknown> {
    const result = await this.resolve(ref, ttlMs, load, mark);
    return 'cached' in result ? replay(result.cached, reply) : result.loaded;
  }

  /**
   * The same read for code that wants the value rather than a response body (the HTML pages): a hit is parsed, a
   * cached 404 throws NotFoundException. `sharedDownstream`: the value goes on into a shared cache (the edge), so
   * when Redis cannot say how fresh a fill must be (bypassed, or CACHE_ENABLED=false) it is read on the primary,
   * or a lagging replica's old row would be served from the edge for its whole TTL.
   */
  async read<T>(
    ref: CacheRef,
    ttlMs: number,
    load: () => Promise<T>,
    mark: (o: CacheOutcome) => void,
    { sharedDownstream = false } = {},
  ): Promise<T> {
    const unguarded = sharedDownstream ? () => readFromPrimary(load) : load;
    if (!this.config.cache.enabled) return unguarded();
    const result = await this.resolve(ref, ttlMs, load, mark, unguarded);
    if (!('cached' in result)) return result.loaded as T;
    if (result.cached.status === 404) throw new NotFoundException(result.cached.body);
    return JSON.parse(result.cached.body) as T;
  }

  private async resolve(
    ref: CacheRef,
    ttlMs: number,
    load: () => Promise<unknown>,
    mark: (o: CacheOutcome) => void,
    bypassLoad = load,
  ): Promise<{ cached: CachedResponse } | { loaded: unknown }> {
    const lookup = await this.store.lookup(ref);
    if (lookup.kind === 'hit') {
      this.record('HIT', mark);
      return { cached: lookup.response };
    }
    const token = randomUUID();
    const lease =
      lookup.kind === 'miss' ? await this.store.acquireLease(ref, token, this.config.cache.leaseMs) : undefined;
    if (lookup.kind === 'bypass' || lease === undefined) {
      this.record('BYPASS', mark);
      return { loaded: await bypassLoad() };
    }
    if (lease) {
      // Lookup and lease are two round trips: another loader may have filled and released in between.
      const filled = await this.filledMeanwhile(ref, token);
      if (filled) {
        this.record('HIT', mark);
        return { cached: filled.response };
      }
      this.record('MISS', mark);
      return { loaded: await this.fill(ref, lookup, ttlMs, token, load) };
    }
    // Another loader holds the lease: its value is moments away, and loading too would be the stampede.
    this.leaseWaits.inc();
    const waited = await this.waitForFill(ref, token, lookup);
    if (waited.kind === 'hit') {
      this.record('HIT', mark);
      return { cached: waited.response };
    }
    this.record('MISS', mark);
    // The loader gave up (failed, or its fill was refused after a write): this waiter now holds the lease.
    if (waited.kind === 'lease') return { loaded: await this.fill(ref, waited.lookup, ttlMs, token, load) };
    return { loaded: await this.atLeast(waited.lookup.minLsn, load) };
  }

  private async fill(
    ref: CacheRef,
    { version, minLsn }: Miss,
    ttlMs: number,
    token: string,
    load: () => Promise<unknown>,
  ) {
    this.loads.inc();
    const { negativeTtlMs } = this.config.cache;
    let value: unknown;
    try {
      value = await this.atLeast(minLsn, load);
    } catch (err) {
      // A missing entity is cached briefly too (negative caching), so a hot 404 does not hammer the database.
      const response = err instanceof NotFoundException ? { status: 404, body: err.message } : undefined;
      if (response) await this.store.storeIfCurrent(ref, version, response, this.jitter(negativeTtlMs), token);
      else await this.store.releaseLease(ref, token);
      throw err;
    }
    const stored = await this.store.storeIfCurrent(
      ref,
      version,
      { status: 200, body: JSON.stringify(value) },
      this.jitter(ttlMs),
      token,
    );
    if (stored === false) this.staleSetsRefused.inc();
    return value;
  }

  /**
   * Polls for the loader's value. When the lease is gone without one, the first waiter to take it over loads
   * (one load at a time, at the latest write's position); the others keep waiting for that one.
   */
  private async waitForFill(ref: CacheRef, token: string, first: Miss): Promise<Waited> {
    const deadline = Date.now() + this.config.cache.leaseWaitMs;
    let latest = first;
    while (Date.now() < deadline) {
      await sleep(LEASE_POLL_MS);
      const lookup = await this.store.lookup(ref);
      if (lookup.kind === 'hit') return lookup;
      if (lookup.kind === 'bypass') break;
      latest = lookup;
      // The loader is still at work: only a lease seen free is worth a SET NX.
      if (lookup.leased) continue;
      const lease = await this.store.acquireLease(ref, token, this.config.cache.leaseMs);
      if (lease === undefined) break;
      if (lease) return (await this.filledMeanwhile(ref, token)) ?? { kind: 'lease', lookup };
    }
    return { kind: 'gave up', lookup: latest };
  }

  /**
   * Just after taking a lease: a hit means a loader stored and released between our miss and our SET NX, so the
   * lease is given back and the value served (one load per key, not one per instance that raced it).
   */
  private async filledMeanwhile(ref: CacheRef, token: string): Promise<Extract<Lookup, { kind: 'hit' }> | undefined> {
    const again = await this.store.lookup(ref);
    if (again.kind !== 'hit') return undefined;
    await this.store.releaseLease(ref, token);
    return again;
  }

  private atLeast<T>(minLsn: string | undefined, load: () => Promise<T>): Promise<T> {
    if (minLsn === READ_FROM_PRIMARY) return readFromPrimary(load);
    return minLsn ? runWithMinLsn(minLsn, load) : load();
  }

  /** Entries written together must not expire together: ±jitter of the TTL. */
  private jitter(ttlMs: number): number {
    const j = this.config.cache.ttlJitter;
    return ttlMs * (1 - j + 2 * j * Math.random());
  }

  /** Before the response is produced: a replayed 404 throws, and must still carry its X-Cache. */
  private record(outcome: CacheOutcome, mark: (o: CacheOutcome) => void): void {
    this.requests[outcome].inc();
    mark(outcome);
  }
}

/** Serves a cached body as is: no parse and re-serialize on the hit path. A cached 404 goes through the error filter. */
function replay(response: CachedResponse, reply: FastifyReply): string {
  if (response.status === 404) throw new NotFoundException(response.body);
  void reply.type('application/json; charset=utf-8');
  return response.body;
}
