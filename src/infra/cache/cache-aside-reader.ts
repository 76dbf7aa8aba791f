import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, type Registry } from 'prom-client';
import { type AppConfig, InjectConfig } from '../../config';
import { runWithMinLsn } from '../database';
import { InjectMetrics } from '../observability';
import { CACHE_STORE } from './cache.tokens';
import type { CachedResponse, CacheRef, VersionedCacheStore } from './versioned-cache-store';

export type CacheOutcome = 'HIT' | 'MISS' | 'BYPASS';

const LEASE_POLL_MS = 25;

/**
 * The cache-aside read path. A hit costs one Redis round trip; a miss takes a lease, so N concurrent
 * misses for one key across all instances cause one database load while the others wait briefly for its
 * value. A fill after a recent write reads at least as fresh as that write (its WAL position), so a
 * lagging replica cannot put the old row back.
 */
@Injectable()
export class CacheAsideReader {
  private readonly requests: Counter<'result'>;
  private readonly loads: Counter;
  private readonly leaseWaits: Counter;
  private readonly staleSetsRefused: Counter;

  constructor(
    @Inject(CACHE_STORE) private readonly store: VersionedCacheStore,
    @InjectConfig() private readonly config: AppConfig,
    @InjectMetrics() metrics: Registry,
  ) {
    const registers = [metrics];
    this.requests = new Counter({ name: 'cache_requests_total', help: 'Cache-aside reads by result (hit, miss, bypass)', labelNames: ['result'], registers });
    this.loads = new Counter({ name: 'cache_loads_total', help: 'Database loads made to fill the cache (one per lease)', registers });
    this.leaseWaits = new Counter({ name: 'cache_lease_waits_total', help: 'Misses that waited for another loader instead of loading', registers });
    this.staleSetsRefused = new Counter({
      name: 'cache_stale_sets_refused_total',
      help: 'Fills not stored because the entry was invalidated while loading',
      registers,
    });
  }

  async serve(ref: CacheRef, ttlMs: number, load: () => Promise<unknown>, mark: (o: CacheOutcome) => void, reply: FastifyReply): Promise<unknown> {
    const lookup = await this.store.lookup(ref);
    if (lookup.kind === 'hit') {
      this.record('HIT', mark);
      return replay(lookup.response, reply);
    }
    const token = randomUUID();
    const lease = lookup.kind === 'miss' ? await this.store.acquireLease(ref, token, this.config.cache.leaseMs) : undefined;
    if (lookup.kind === 'bypass' || lease === undefined) {
      this.record('BYPASS', mark);
      return load();
    }
    if (lease) {
      this.record('MISS', mark);
      return this.fill(ref, lookup.version, lookup.minLsn, ttlMs, token, load);
    }
    // Another loader holds the lease: its value is moments away, and loading too would be the stampede.
    this.leaseWaits.inc();
    const filled = await this.waitForFill(ref);
    if (filled) {
      this.record('HIT', mark);
      return replay(filled, reply);
    }
    this.record('MISS', mark);
    return this.atLeast(lookup.minLsn, load);
  }

  private async fill(ref: CacheRef, version: string, minLsn: string | undefined, ttlMs: number, token: string, load: () => Promise<unknown>) {
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
    const stored = await this.store.storeIfCurrent(ref, version, { status: 200, body: JSON.stringify(value) }, this.jitter(ttlMs), token);
    if (stored === false) this.staleSetsRefused.inc();
    return value;
  }

  private async waitForFill(ref: CacheRef): Promise<CachedResponse | undefined> {
    const deadline = Date.now() + this.config.cache.leaseWaitMs;
    while (Date.now() < deadline) {
      await sleep(LEASE_POLL_MS);
      const lookup = await this.store.lookup(ref);
      if (lookup.kind === 'hit') return lookup.response;
      if (lookup.kind === 'bypass') return undefined;
    }
    return undefined;
  }

  private atLeast<T>(minLsn: string | undefined, load: () => Promise<T>): Promise<T> {
    return minLsn ? runWithMinLsn(minLsn, load) : load();
  }

  /** Entries written together must not expire together: ±jitter of the TTL. */
  private jitter(ttlMs: number): number {
    const j = this.config.cache.ttlJitter;
    return ttlMs * (1 - j + 2 * j * Math.random());
  }

  /** Before the response is produced: a replayed 404 throws, and must still carry its X-Cache. */
  private record(outcome: CacheOutcome, mark: (o: CacheOutcome) => void): void {
    this.requests.inc({ result: outcome.toLowerCase() });
    mark(outcome);
  }
}

/** Serves a cached body as is: no parse and re-serialize on the hit path. A cached 404 goes through the error filter. */
function replay(response: CachedResponse, reply: FastifyReply): string {
  if (response.status === 404) throw new NotFoundException(response.body);
  void reply.type('application/json; charset=utf-8');
  return response.body;
}
