import type { CachedResponse } from './edge-cache-store';
import { EdgeCacheStore } from './edge-cache-store';
import { primaryKey } from './cache-key';

const entry = (
  path: string,
  bytes: number,
  vary: string[] = [],
  varyValues: Record<string, string> = {},
): CachedResponse => ({
  kind: 'response',
  path,
  statusCode: 200,
  headers: [],
  body: Buffer.alloc(bytes),
  bornAt: Date.now(),
  ttlMs: 60_000,
  staleWhileRevalidateMs: 0,
  staleIfErrorMs: 0,
  vary,
  varyValues,
  size: bytes + 256,
});

describe('EdgeCacheStore (LRU by bytes)', () => {
  it('accounts bytes and evicts the least recently used past the limit', () => {
    const store = new EdgeCacheStore(3000, 1000);
    for (const p of ['/a', '/b']) store.store(primaryKey('h', p), entry(p, 1000), Date.now());
    expect(store.bytes).toBe(2 * 1256);
    expect(store.entries).toBe(2);
    store.lookup(primaryKey('h', '/a'), { headers: {} });
    store.store(primaryKey('h', '/c'), entry('/c', 1000), Date.now());
    expect(store.lookup(primaryKey('h', '/b'), { headers: {} }).entry).toBeUndefined();
    expect(store.lookup(primaryKey('h', '/a'), { headers: {} }).entry).toBeDefined();
    expect(store.bytes).toBeLessThanOrEqual(3000);
  });

  it('refuses an entry bigger than the per-entry limit', () => {
    const store = new EdgeCacheStore(10_000_000, 1000);
    store.store(primaryKey('h', '/big'), entry('/big', 200_000), Date.now());
    expect(store.entries).toBe(0);
  });

  it('keeps variants side by side under a Vary marker', () => {
    const store = new EdgeCacheStore(100_000, 10_000);
    const p = primaryKey('h', '/v');
    store.store(p, entry('/v', 10, ['accept-language'], { 'accept-language': 'en' }), Date.now());
    store.store(p, entry('/v', 20, ['accept-language'], { 'accept-language': 'fr' }), Date.now());
    expect(store.lookup(p, { headers: { 'accept-language': 'en' } }).entry?.body.length).toBe(10);
    expect(store.lookup(p, { headers: { 'accept-language': 'fr' } }).entry?.body.length).toBe(20);
    expect(store.lookup(p, { headers: { 'accept-language': 'de' } }).entry).toBeUndefined();
    expect(store.entries).toBe(2);
  });

  it('remembers a recently uncacheable key (hit-for-miss) without displacing a stored response', () => {
    const store = new EdgeCacheStore(100_000, 10_000);
    store.markUncacheable(primaryKey('h', '/json'), '/json');
    expect(store.lookup(primaryKey('h', '/json'), { headers: {} })).toMatchObject({ recentlyUncacheable: true });
    store.store(primaryKey('h', '/css'), entry('/css', 10), Date.now());
    store.markUncacheable(primaryKey('h', '/css'), '/css');
    expect(store.lookup(primaryKey('h', '/css'), { headers: {} }).entry).toBeDefined();
  });

  it('purges a path across hosts, queries and variants, or a prefix with *', () => {
    const store = new EdgeCacheStore(100_000, 10_000);
    store.store(primaryKey('a', '/s/x.css?v=1'), entry('/s/x.css', 1), Date.now());
    store.store(primaryKey('b', '/s/x.css?v=2'), entry('/s/x.css', 1), Date.now());
    store.store(primaryKey('a', '/s/y.css'), entry('/s/y.css', 1, ['accept'], { accept: '*/*' }), Date.now());
    store.store(primaryKey('a', '/other'), entry('/other', 1), Date.now());
    expect(store.purge('/s/x.css')).toBe(2);
    expect(store.purge('/s/*')).toBe(1);
    expect(store.entries).toBe(1);
    expect(store.purge('/nothing')).toBe(0);
  });

  it('does not store what a fill fetched if its path was purged after the fill started', () => {
    const store = new EdgeCacheStore(100_000, 10_000);
    const startedAt = Date.now() - 10;
    store.purge('/a/1');
    store.purge('/p/*');
    expect(store.store(primaryKey('h', '/a/1'), entry('/a/1', 1), startedAt)).toBe(false);
    expect(store.store(primaryKey('h', '/p/x'), entry('/p/x', 1), startedAt)).toBe(false);
    expect(store.store(primaryKey('h', '/a/2'), entry('/a/2', 1), startedAt)).toBe(true);
    expect(store.store(primaryKey('h', '/a/1'), entry('/a/1', 1), Date.now() + 1)).toBe(true);
    expect(store.entries).toBe(2);
  });
});
