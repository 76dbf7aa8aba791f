import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { LRUCache } from 'lru-cache';
import { pathMatches, variantKey } from './cache-key';

export interface CachedResponse {
  readonly kind: 'response';
  readonly path: string;
  readonly statusCode: number;
  /** Flat, hop-by-hop free; without Age, X-Request-Id and X-Edge-Cache, which are per delivery. */
  headers: string[];
  readonly body: Buffer;
  readonly etag?: string;
  readonly lastModified?: string;
  /** When the origin produced it (fetch or revalidation), minus any Age it reported. */
  bornAt: number;
  ttlMs: number;
  staleWhileRevalidateMs: number;
  staleIfErrorMs: number;
  readonly vary: readonly string[];
  /** Each header the response varies on, with the value of the request that fetched it. */
  readonly varyValues: IncomingHttpHeaders;
  readonly size: number;
}

/** Stored under the primary key when the response varies: says which request headers pick the variant. */
interface VaryMarker {
  readonly kind: 'vary';
  readonly path: string;
  readonly vary: readonly string[];
}

/** Varnish's hit-for-miss: this key answered uncacheable lately, so requests skip coalescing for a while. */
interface MissMarker {
  readonly kind: 'miss';
  readonly path: string;
}

type CacheRecord = CachedResponse | VaryMarker | MissMarker;

const MARKER_BYTES = 256;
const MISS_MARKER_TTL_MS = 30_000;
const MAX_KEEP_FOR_REVALIDATION_MS = 24 * 3600 * 1000;
// How long a purge is remembered: longer than any fill (a response, headers and body, within the upstream timeouts).
const PURGE_MEMORY_MS = 10 * 60 * 1000;
const PURGE_MEMORY_PATHS = 10_000;

export interface Lookup {
  /** The key this request's variant lives (or would live) under. */
  readonly key: string;
  readonly entry?: CachedResponse;
  readonly recentlyUncacheable: boolean;
}

/** The edge cache's memory: an LRU bounded by bytes (lru-cache), with variants per Vary. */
export class EdgeCacheStore {
  private readonly lru: LRUCache<string, CacheRecord>;
  /**
   * When each pattern was last purged. A fill (or revalidation) that started before may carry what the purge
   * retired: an origin read just before the change commits, answered just after the purge. It is not stored.
   */
  private readonly purges = new LRUCache<string, number>({ max: PURGE_MEMORY_PATHS, ttl: PURGE_MEMORY_MS });
  /** Prefix purges (`/static/*`) apart: few, and scanned on every store. */
  private readonly prefixPurges = new LRUCache<string, number>({ max: 256, ttl: PURGE_MEMORY_MS });

  constructor(maxBytes: number, maxEntryBytes: number) {
    this.lru = new LRUCache<string, CacheRecord>({
      maxSize: maxBytes,
      maxEntrySize: maxEntryBytes + 64 * 1024,
      sizeCalculation: (r) => (r.kind === 'response' ? r.size : MARKER_BYTES),
    });
  }

  /** `req.headers` is read only when the key varies: Node builds that object on first access. */
  lookup(primary: string, req: Pick<IncomingMessage, 'headers'>): Lookup {
    const first = this.lru.get(primary);
    if (first === undefined) return { key: primary, recentlyUncacheable: false };
    if (first.kind === 'response') return { key: primary, entry: first, recentlyUncacheable: false };
    if (first.kind === 'miss') return { key: primary, recentlyUncacheable: true };
    const key = variantKey(primary, first.vary, req.headers);
    const variant = this.lru.get(key);
    return {
      key,
      entry: variant?.kind === 'response' ? variant : undefined,
      recentlyUncacheable: variant?.kind === 'miss',
    };
  }

  /** Stores the entry unless a purge of its path came after `fetchedSince` (when its origin request started). */
  store(primary: string, entry: CachedResponse, fetchedSince: number): boolean {
    if (this.purgedSince(entry.path, fetchedSince)) return false;
    const keepMs = entry.ttlMs + Math.max(entry.staleWhileRevalidateMs, entry.staleIfErrorMs, validatorsKeep(entry));
    if (entry.vary.length === 0) {
      this.lru.set(primary, entry, { ttl: keepMs });
      return true;
    }
    this.lru.set(primary, { kind: 'vary', path: entry.path, vary: entry.vary }, { ttl: keepMs });
    this.lru.set(variantKey(primary, entry.vary, entry.varyValues), entry, { ttl: keepMs });
    return true;
  }

  markUncacheable(key: string, path: string): void {
    // A live marker is left alone: re-setting it on every uncacheable response would cost an LRU write each.
    if (this.lru.peek(key) === undefined) this.lru.set(key, { kind: 'miss', path }, { ttl: MISS_MARKER_TTL_MS });
  }

  /** Deletes every stored response whose path is `pattern`, or starts with it when it ends in `*`. */
  purge(pattern: string): number {
    (pattern.endsWith('*') ? this.prefixPurges : this.purges).set(pattern, Date.now());
    const doomed: Array<[string, CacheRecord]> = [];
    for (const [key, record] of this.lru.entries()) if (pathMatches(pattern, record.path)) doomed.push([key, record]);
    for (const [key] of doomed) this.lru.delete(key);
    return doomed.filter(([, r]) => r.kind === 'response').length;
  }

  private purgedSince(path: string, since: number): boolean {
    if ((this.purges.get(path) ?? -Infinity) >= since) return true;
    for (const [pattern, at] of this.prefixPurges.entries()) if (at >= since && pathMatches(pattern, path)) return true;
    return false;
  }

  get entries(): number {
    let n = 0;
    for (const r of this.lru.values()) if (r.kind === 'response') n++;
    return n;
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }
}

// An expired response with a validator is still worth keeping: a 304 revalidates it without a body.
function validatorsKeep(entry: CachedResponse): number {
  return entry.etag !== undefined || entry.lastModified !== undefined
    ? Math.min(entry.ttlMs * 10, MAX_KEEP_FOR_REVALIDATION_MS)
    : 0;
}
