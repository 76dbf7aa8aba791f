import type { IncomingMessage } from 'node:http';
import type { ResponseTap } from '../proxy/proxy-exchange';
import { headerValue } from '../proxy/response-headers';
import type { ClientResponse } from '../server/json-error';
import { cachedResponse, type CacheLabel, originAgeMs, serveCached } from './cached-response';
import { storability, type Storable } from './edge-cache-policy';
import type { CachedResponse } from './edge-cache-store';

/** What a fill needs from the edge cache that started it. */
export interface FillOwner {
  readonly maxEntryBytes: number;
  readonly defaultStaleIfErrorSeconds: number;
  /** Stores the entry unless its path was purged after `fetchedSince`; false if it was not stored. */
  keep(primary: string, entry: CachedResponse, fetchedSince: number): boolean;
  markUncacheable(key: string, path: string): void;
  settled(fill: CacheFill, entry: CachedResponse | undefined): void;
  served(label: CacheLabel, statusCode: number, req: IncomingMessage): void;
}

export interface FillRequest {
  readonly primary: string;
  readonly key: string;
  readonly path: string;
  readonly method: string;
  /** The client request that started the fill (its headers pick the variant; read lazily, Node builds them on demand). */
  readonly req: IncomingMessage;
  /** Authorization or a cookie came with it: a refusal may be about this request, not the resource. */
  readonly credentialed: boolean;
  readonly requestId: string;
  /** null for a background refresh (stale-while-revalidate): nobody waits on it. */
  readonly client: ClientResponse | null;
  /** The expired entry being revalidated, also the stale-if-error fallback. */
  readonly stale?: CachedResponse;
}

/**
 * One origin fetch on behalf of the edge cache, as a tap on a ProxyExchange: it records a storable
 * response while it streams to the first client, then hands the entry to the requests that waited for
 * it (coalesced misses). A 304 to its conditional request revalidates the stale entry instead.
 */
export class CacheFill implements ResponseTap {
  private decision: Storable | undefined;
  private statusCode = 0;
  private headers: string[] = [];
  private chunks: Buffer[] = [];
  private bytes = 0;
  private done = false;
  private readonly waiters: Array<(entry: CachedResponse | undefined, purged: boolean) => void> = [];
  /** When the origin request went out: a purge after this may have retired what it brings back. */
  private readonly startedAt = Date.now();

  constructor(
    private readonly owner: FillOwner,
    readonly request: FillRequest,
  ) {}

  /**
   * A coalesced request waits here for the fill's entry (undefined: fetch for yourself; `purged`: the path was
   * purged while this fill was under way, so its response is the old one and the waiter should look again).
   */
  wait(callback: (entry: CachedResponse | undefined, purged: boolean) => void): void {
    this.waiters.push(callback);
  }

  onResponseStart(statusCode: number, headers: string[]): boolean {
    const { stale, client } = this.request;
    if (statusCode === 304 && stale !== undefined) {
      this.revalidated(stale, headers);
      return true;
    }
    const decision = storability(statusCode, headers, this.owner.defaultStaleIfErrorSeconds);
    const length = Number(headerValue(headers, 'content-length') ?? 0);
    if (!decision.storable || length > this.owner.maxEntryBytes) {
      // Only an anonymous request's refusal says something about the resource; a signed-in user's may be about them.
      if (!this.request.credentialed) this.owner.markUncacheable(this.request.key, this.request.path);
      this.settle(undefined);
    } else {
      this.decision = decision;
      this.statusCode = statusCode;
      this.headers = headers.slice();
    }
    // A background refresh has no client: keep the response from reaching the placeholder.
    return client === null;
  }

  onResponseData(chunk: Buffer): void {
    if (this.decision === undefined) return;
    this.bytes += chunk.length;
    if (this.bytes > this.owner.maxEntryBytes) {
      this.decision = undefined;
      this.chunks = [];
      this.settle(undefined);
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.decision === undefined) return this.settle(undefined);
    const { path, req, primary } = this.request;
    const entry = cachedResponse(
      path,
      this.statusCode,
      this.headers,
      Buffer.concat(this.chunks, this.bytes),
      this.decision,
      req.headers,
      Date.now(),
    );
    this.chunks = [];
    const kept = this.owner.keep(primary, entry, this.startedAt);
    this.settle(kept ? entry : undefined, !kept);
  }

  onResponseAbort(): void {
    this.decision = undefined;
    this.chunks = [];
    this.settle(undefined);
  }

  onGiveUp(): boolean {
    this.settle(undefined);
    const { stale, client } = this.request;
    if (client === null) return true;
    if (stale === undefined || Date.now() - stale.bornAt >= stale.ttlMs + stale.staleIfErrorMs) return false;
    // stale-if-error: an expired copy beats an error page while the origin is down.
    this.deliver(stale, 'STALE');
    return true;
  }

  private revalidated(stale: CachedResponse, notModified: string[]): void {
    // The 304 carries the fresh metadata (RFC 9111 §4.3.4): merge it over the stored headers.
    const merged = mergeHeaders(stale.headers, notModified);
    const decision = storability(stale.statusCode, merged, this.owner.defaultStaleIfErrorSeconds);
    if (decision.storable) {
      const now = Date.now();
      const refreshed: CachedResponse = {
        ...stale,
        headers: merged,
        bornAt: now - originAgeMs(notModified),
        ttlMs: decision.ttlMs,
        staleWhileRevalidateMs: decision.staleWhileRevalidateMs,
        staleIfErrorMs: decision.staleIfErrorMs,
      };
      const kept = this.owner.keep(this.request.primary, refreshed, this.startedAt);
      this.settle(kept ? refreshed : undefined, !kept);
      this.deliver(refreshed, 'REVALIDATED');
    } else {
      this.settle(undefined);
      this.deliver({ ...stale, headers: merged, bornAt: Date.now() }, 'REVALIDATED');
    }
  }

  private deliver(entry: CachedResponse, label: CacheLabel): void {
    const { client, method, requestId, req } = this.request;
    if (client === null || client.destroyed) return;
    const ifNoneMatch = req.headers['if-none-match'];
    this.owner.served(label, serveCached(client, entry, label, Date.now(), method, requestId, ifNoneMatch), req);
  }

  private settle(entry: CachedResponse | undefined, purged = false): void {
    if (this.done) return;
    this.done = true;
    this.owner.settled(this, entry);
    for (const w of this.waiters.splice(0)) w(entry, purged);
  }
}

const MERGE_SKIP = new Set(['content-length', 'content-encoding', 'transfer-encoding']);

/** Stored headers with every header the 304 repeats replaced by the 304's values. */
export function mergeHeaders(stored: readonly string[], fresh: readonly string[]): string[] {
  const replaced = new Set<string>();
  for (let i = 0; i < fresh.length; i += 2) {
    const name = fresh[i]!.toLowerCase();
    if (!MERGE_SKIP.has(name)) replaced.add(name);
  }
  const out: string[] = [];
  for (let i = 0; i < stored.length; i += 2)
    if (!replaced.has(stored[i]!.toLowerCase())) out.push(stored[i]!, stored[i + 1]!);
  for (let i = 0; i < fresh.length; i += 2) {
    const name = fresh[i]!.toLowerCase();
    if (replaced.has(name) && name !== 'age' && name !== 'x-request-id') out.push(fresh[i]!, fresh[i + 1]!);
  }
  return out;
}
