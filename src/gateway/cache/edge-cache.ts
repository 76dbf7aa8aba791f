import type { IncomingMessage } from 'node:http';
import type { GatewayConfig } from '../config/gateway-config';
import type { ProxyExchange } from '../proxy/proxy-exchange';
import type { ProxyStats } from '../proxy/proxy-stats';
import { type ForwardedRequest, withoutNames } from '../proxy/request-headers';
import type { ClientResponse } from '../server/json-error';
import { pathMatches, pathOf, primaryKey } from './cache-key';
import { CacheFill, type FillOwner, type FillRequest } from './cache-fill';
import { type CacheLabel, matchesVary, serveCached } from './cached-response';
import { type CachedResponse, EdgeCacheStore } from './edge-cache-store';

/** Creates the exchange that fetches from an upstream (the request handler adds sticky sessions etc.). */
export type ExchangeFactory = (
  req: IncomingMessage,
  method: string,
  target: string,
  res: ClientResponse,
  headers: string[],
  requestId: string,
) => ProxyExchange;

// The cache fetches full responses for itself; the client's own conditionals are answered from the entry.
const CLIENT_CONDITIONALS = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range'];

// Shared, read-only: the exchange appends them to each MISS/BYPASS response without copying.
const LABEL_HEADERS: Record<CacheLabel, readonly string[]> = {
  HIT: ['x-edge-cache', 'HIT'],
  MISS: ['x-edge-cache', 'MISS'],
  STALE: ['x-edge-cache', 'STALE'],
  REVALIDATED: ['x-edge-cache', 'REVALIDATED'],
  BYPASS: ['x-edge-cache', 'BYPASS'],
};

const NO_CLIENT: ClientResponse = {
  headersSent: false,
  destroyed: false,
  writeHead: () => NO_CLIENT as never,
  write: () => true,
  end: () => NO_CLIENT as never,
  destroy: () => NO_CLIENT as never,
  once: () => NO_CLIENT as never,
};

export class EdgeCacheOutcomes {
  hits = 0;
  misses = 0;
  stale = 0;
  revalidated = 0;
  bypass = 0;
}

export class EdgeCacheStats extends EdgeCacheOutcomes {
  /** The same outcomes for page loads alone (requests that accept text/html), as a CDN reports HTML apart. */
  readonly pages = new EdgeCacheOutcomes();
  coalesced = 0;
  /** Background revalidations (stale-while-revalidate). */
  refreshes = 0;
  stores = 0;
  purged = 0;
}

/**
 * The CDN in front of the API: GET/HEAD answered from memory while fresh, stale-while-revalidate and
 * stale-if-error, conditional revalidation with the stored ETag, and one origin fetch per key however
 * many requests miss at once (request coalescing, like nginx's proxy_cache_lock).
 */
export class EdgeCache implements FillOwner {
  readonly store: EdgeCacheStore;
  readonly stats = new EdgeCacheStats();
  readonly maxEntryBytes: number;
  readonly defaultStaleIfErrorSeconds: number;
  private readonly fills = new Map<string, CacheFill>();

  constructor(
    config: GatewayConfig['cache'],
    private readonly proxyStats: ProxyStats,
    private readonly exchange: ExchangeFactory,
  ) {
    this.store = new EdgeCacheStore(config.maxBytes, config.maxEntryBytes);
    this.maxEntryBytes = config.maxEntryBytes;
    this.defaultStaleIfErrorSeconds = config.staleIfErrorSeconds;
  }

  handle(req: IncomingMessage, res: ClientResponse, fwd: ForwardedRequest): void {
    const method = req.method!;
    const target = req.url!;
    if (fwd.ranged) return this.forward(req, method, target, res, fwd.headers, fwd.requestId, 'BYPASS', null);
    const primary = primaryKey(fwd.host, target);
    const { key, entry, recentlyUncacheable } = this.store.lookup(primary, req);
    // Hit-for-miss: a key that answered uncacheable lately goes straight through, with no fill to set up.
    if (recentlyUncacheable) return this.forward(req, method, target, res, fwd.headers, fwd.requestId, 'MISS', null);
    const request: FillRequest = {
      primary,
      key,
      path: pathOf(target),
      method,
      req,
      credentialed: fwd.credentialed,
      requestId: fwd.requestId,
      client: res,
      stale: entry,
    };
    if (entry !== undefined) {
      const age = Date.now() - entry.bornAt;
      if (age < entry.ttlMs) return this.serve(res, entry, 'HIT', request);
      if (age < entry.ttlMs + entry.staleWhileRevalidateMs) {
        this.serve(res, entry, 'STALE', request);
        // The background refresh is left to an anonymous request: one with credentials never fills for others.
        if (!fwd.credentialed && !this.fills.has(key)) this.fill({ ...request, client: null }, fwd, NO_CLIENT);
        return;
      }
    }
    // A request with credentials is never coalesced, either way: its answer may be about its user (every user's
    // /auth/me is one URL), so it neither waits behind another request's fill nor makes others wait behind its own.
    if (fwd.credentialed) return this.fill(request, fwd, res, false);
    const pending = this.fills.get(key);
    if (pending !== undefined) {
      this.stats.coalesced++;
      pending.wait((filled, purged) => {
        // Purged under way: look again, so the waiters share one new fill instead of one origin request each.
        if (purged && !res.destroyed) return this.handle(req, res, fwd);
        this.afterWait(filled, res, fwd, request);
      });
      return;
    }
    this.fill(request, fwd, res);
  }

  purge(pattern: string): number {
    const n = this.store.purge(pattern);
    this.stats.purged += n;
    // Fills in flight for the path fetched what the purge retires: later requests must not wait on them.
    for (const [key, fill] of this.fills) if (pathMatches(pattern, fill.request.path)) this.fills.delete(key);
    return n;
  }

  // FillOwner: the fills report back here.
  keep(primary: string, entry: CachedResponse, fetchedSince: number): boolean {
    return this.store.store(primary, entry, fetchedSince);
  }

  markUncacheable(key: string, path: string): void {
    this.store.markUncacheable(key, path);
  }

  settled(fill: CacheFill, entry: CachedResponse | undefined): void {
    if (this.fills.get(fill.request.key) === fill) this.fills.delete(fill.request.key);
    if (entry !== undefined) this.stats.stores++;
  }

  served(label: CacheLabel, statusCode: number, req: IncomingMessage): void {
    this.count(label, req);
    this.proxyStats.responses[(statusCode / 100) | 0]!++;
  }

  private afterWait(
    filled: CachedResponse | undefined,
    res: ClientResponse,
    fwd: ForwardedRequest,
    request: FillRequest,
  ): void {
    if (res.destroyed) return;
    if (filled !== undefined && matchesVary(filled, request.req.headers))
      return this.serve(res, filled, 'HIT', request);
    // The leader's response was not for sharing (Set-Cookie, private...): fetch our own, uncoalesced.
    this.fill({ ...request, stale: undefined }, fwd, res, false);
  }

  /** A miss is fetched with GET even for a HEAD (as Varnish does), so it fills the cache; Node sends no body for HEAD. */
  private fill(request: FillRequest, fwd: ForwardedRequest, res: ClientResponse, coalesce = true): void {
    const fill = new CacheFill(this, request);
    if (coalesce) this.fills.set(request.key, fill);
    const { stale } = request;
    const revalidate = stale?.etag !== undefined || stale?.lastModified !== undefined;
    // The fill fetches the full response for everyone; a client's own conditional is answered from the entry.
    const headers = fwd.conditional || revalidate ? withoutNames(fwd.headers, CLIENT_CONDITIONALS) : fwd.headers;
    if (stale?.etag !== undefined) headers.push('if-none-match', stale.etag);
    else if (stale?.lastModified !== undefined) headers.push('if-modified-since', stale.lastModified);
    if (request.client === null) this.stats.refreshes++;
    else this.count('MISS', request.req);
    this.forward(request.req, 'GET', request.req.url!, res, headers, request.requestId, 'MISS', fill);
  }

  private forward(
    req: IncomingMessage,
    method: string,
    target: string,
    res: ClientResponse,
    headers: string[],
    requestId: string,
    label: CacheLabel,
    fill: CacheFill | null,
  ): void {
    if (fill === null) this.count(label, req);
    const exchange = this.exchange(req, method, target, res, headers, requestId);
    exchange.tap = fill;
    exchange.extraHeaders = LABEL_HEADERS[label];
    exchange.start();
  }

  private serve(res: ClientResponse, entry: CachedResponse, label: CacheLabel, request: FillRequest): void {
    this.served(
      label,
      serveCached(
        res,
        entry,
        label,
        Date.now(),
        request.method,
        request.requestId,
        request.req.headers['if-none-match'],
      ),
      request.req,
    );
  }

  private count(label: CacheLabel, req: IncomingMessage): void {
    tally(this.stats, label);
    if (req.headers.accept?.includes('text/html')) tally(this.stats.pages, label);
  }
}

function tally(s: EdgeCacheOutcomes, label: CacheLabel): void {
  if (label === 'HIT') s.hits++;
  else if (label === 'MISS') s.misses++;
  else if (label === 'STALE') s.stale++;
  else if (label === 'REVALIDATED') s.revalidated++;
  else s.bypass++;
}
