import { NotFoundException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Registry } from 'prom-client';
import type { AppConfig } from '../../config';
import { currentDbScope } from '../database/consistency/db-context';
import { formatLsn } from '../database/topology/lsn';
import { CacheAsideReader, type CacheOutcome } from './cache-aside-reader';
import {
  type CachedResponse,
  type CacheRef,
  type Lookup,
  READ_FROM_PRIMARY,
  type VersionedCacheStore,
} from './versioned-cache-store';

/** VersionedCacheStore's contract in memory, shared by several readers as Redis is by several instances. */
class MemoryStore {
  readonly entries = new Map<string, { version: string; response: CachedResponse; ttlMs: number }>();
  readonly versions = new Map<string, number>();
  readonly markers = new Map<string, string>();
  readonly leases = new Map<string, string>();
  down = false;

  async lookup(ref: CacheRef): Promise<Lookup> {
    await Promise.resolve();
    if (this.down) return { kind: 'bypass' };
    const version = String(this.versions.get(ref.versionKey) ?? 0);
    const entry = this.entries.get(ref.key);
    if (entry?.version === version) return { kind: 'hit', response: entry.response };
    return { kind: 'miss', version, minLsn: this.markers.get(ref.versionKey), leased: this.leases.has(ref.key) };
  }

  async acquireLease(ref: CacheRef, token: string): Promise<boolean | undefined> {
    if (this.down) return undefined;
    if (this.leases.has(ref.key)) return false;
    this.leases.set(ref.key, token);
    return true;
  }

  async releaseLease(ref: CacheRef, token: string): Promise<void> {
    if (this.leases.get(ref.key) === token) this.leases.delete(ref.key);
  }

  async storeIfCurrent(
    ref: CacheRef,
    version: string,
    response: CachedResponse,
    ttlMs: number,
    token: string,
  ): Promise<boolean | undefined> {
    const current = String(this.versions.get(ref.versionKey) ?? 0) === version;
    if (current) this.entries.set(ref.key, { version, response, ttlMs });
    await this.releaseLease(ref, token);
    return current;
  }

  async invalidate(keys: readonly string[], versionKeys: readonly string[], lsn: string | undefined): Promise<boolean> {
    for (const vk of versionKeys) {
      this.versions.set(vk, (this.versions.get(vk) ?? 0) + 1);
      if (lsn) this.markers.set(vk, lsn);
    }
    for (const k of keys) this.entries.delete(k);
    return true;
  }
}

const cacheConfig = { ttlJitter: 0.1, negativeTtlMs: 5000, leaseMs: 2000, leaseWaitMs: 1000 };
const config = { cache: cacheConfig } as unknown as AppConfig;
const ref: CacheRef = { key: 'article:1', versionKey: 'article:1' };
const reply = () => ({ type: jest.fn() }) as unknown as FastifyReply & { type: jest.Mock };
const metric = async (registry: Registry, name: string, labels: Record<string, string> = {}) =>
  (await registry.getSingleMetric(name)!.get()).values.find((v) =>
    Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  )?.value ?? 0;

describe('CacheAsideReader', () => {
  let store: MemoryStore;
  let registry: Registry;
  let reader: CacheAsideReader;
  const serve = (r: CacheAsideReader, load: () => Promise<unknown>, outcomes: CacheOutcome[] = [], res = reply()) =>
    r.serve(ref, 60_000, load, (o) => outcomes.push(o), res);

  beforeEach(() => {
    store = new MemoryStore();
    registry = new Registry();
    reader = new CacheAsideReader(store as unknown as VersionedCacheStore, config, registry);
  });

  it('loads once on a miss and stores with a jittered TTL; a hit replays the stored JSON as is', async () => {
    const load = jest.fn(async () => ({ title: 'hello' }));
    const outcomes: CacheOutcome[] = [];
    expect(await serve(reader, load, outcomes)).toEqual({ title: 'hello' });
    const res = reply();
    expect(await serve(reader, load, outcomes, res)).toBe('{"title":"hello"}');
    expect(res.type).toHaveBeenCalledWith('application/json; charset=utf-8');
    expect(outcomes).toEqual(['MISS', 'HIT']);
    expect(load).toHaveBeenCalledTimes(1);
    const { ttlMs } = store.entries.get(ref.key)!;
    expect(ttlMs).toBeGreaterThanOrEqual(54_000);
    expect(ttlMs).toBeLessThanOrEqual(66_000);
    expect(await metric(registry, 'cache_requests_total', { result: 'hit' })).toBe(1);
    expect(await metric(registry, 'cache_requests_total', { result: 'miss' })).toBe(1);
    expect(await metric(registry, 'cache_loads_total')).toBe(1);
  });

  it('serves the value, and gives the lease back, when another loader stored between its miss and its lease', async () => {
    // Instance A missed, then instance B filled and released before A's SET NX: A's lease is granted on a full key.
    const lookup = store.lookup.bind(store);
    let first = true;
    store.lookup = async (r) => {
      const result = await lookup(r);
      if (first) {
        first = false;
        store.entries.set(ref.key, { version: '0', response: { status: 200, body: '{"by":"B"}' }, ttlMs: 60_000 });
      }
      return result;
    };
    const load = jest.fn(async () => ({ by: 'A' }));
    const outcomes: CacheOutcome[] = [];
    expect(await serve(reader, load, outcomes)).toBe('{"by":"B"}');
    expect(load).not.toHaveBeenCalled();
    expect(outcomes).toEqual(['HIT']);
    expect(store.leases.size).toBe(0);
  });

  it('caches a 404 for the negative TTL and replays it as the same NotFoundException', async () => {
    const load = jest.fn(async () => {
      throw new NotFoundException('article not found');
    });
    await expect(serve(reader, load)).rejects.toThrow(NotFoundException);
    expect(store.entries.get(ref.key)!.ttlMs).toBeLessThanOrEqual(5500);
    const outcomes: CacheOutcome[] = [];
    await expect(serve(reader, load, outcomes)).rejects.toThrow('article not found');
    expect(outcomes).toEqual(['HIT']);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('bypasses to the handler when the store is unavailable, and stores nothing', async () => {
    store.down = true;
    const outcomes: CacheOutcome[] = [];
    expect(await serve(reader, async () => 'fresh', outcomes)).toBe('fresh');
    expect(outcomes).toEqual(['BYPASS']);
    expect(store.entries.size).toBe(0);
    expect(await metric(registry, 'cache_requests_total', { result: 'bypass' })).toBe(1);
  });

  it('makes concurrent misses on two instances wait for one load', async () => {
    const other = new CacheAsideReader(store as unknown as VersionedCacheStore, config, new Registry());
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const load = jest.fn(async () => {
      await gate;
      return { n: 1 };
    });
    const outcomes: CacheOutcome[] = [];
    const all = Promise.all(Array.from({ length: 10 }, (_, i) => serve(i % 2 ? reader : other, load, outcomes)));
    setTimeout(release, 60);
    const results = await all;
    expect(load).toHaveBeenCalledTimes(1);
    expect(results.filter((r) => r === '{"n":1}')).toHaveLength(9);
    expect(outcomes.filter((o) => o === 'MISS')).toHaveLength(1);
  });

  it('hands the lease to one waiter when the loader fails, instead of letting every waiter load', async () => {
    let calls = 0;
    const load = jest.fn(async () => {
      calls++;
      if (calls === 1) {
        await new Promise((r) => setTimeout(r, 40));
        throw new Error('database hiccup');
      }
      return { n: calls };
    });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => serve(reader, load)));
    expect(results[0]!.status).toBe('rejected');
    // One more load after the failure, and the other waiters get its value from the cache.
    expect(load).toHaveBeenCalledTimes(2);
    expect(results.slice(1).every((r) => r.status === 'fulfilled')).toBe(true);
    expect(store.entries.get(ref.key)?.response.body).toBe('{"n":2}');
  });

  it('refuses a fill that an invalidation overtook; the waiter that takes over reads at the write position', async () => {
    const writeLsn = formatLsn(0x5000n);
    const seen: Array<string | undefined> = [];
    let first = true;
    const load = jest.fn(async () => {
      const floor = currentDbScope()?.minLsn;
      seen.push(floor === undefined ? undefined : formatLsn(floor));
      if (first) {
        first = false;
        await new Promise((r) => setTimeout(r, 30));
        // A write commits and invalidates while this loader still holds the old row.
        await store.invalidate([ref.key], [ref.versionKey], writeLsn);
        return { title: 'old' };
      }
      return { title: 'new' };
    });
    const [loader, waiter] = await Promise.all([serve(reader, load), serve(reader, load)]);
    expect(loader).toEqual({ title: 'old' });
    expect(waiter).toEqual({ title: 'new' });
    expect(seen).toEqual([undefined, writeLsn]);
    expect(await metric(registry, 'cache_stale_sets_refused_total')).toBe(1);
    expect(store.entries.get(ref.key)?.response.body).toBe('{"title":"new"}');
  });

  it('fills from the primary when the last invalidation could not learn its WAL position', async () => {
    await store.invalidate([ref.key], [ref.versionKey], READ_FROM_PRIMARY);
    let primaryReads: boolean | undefined;
    await serve(reader, async () => {
      primaryReads = currentDbScope()?.primaryReads;
      return { ok: true };
    });
    expect(primaryReads).toBe(true);
  });
});
