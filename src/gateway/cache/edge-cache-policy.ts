import { headerValue, headerValues } from '../proxy/response-headers';
import { parseCacheControl } from './cache-control';

// Statuses a cache may store when explicitly told to (RFC 9110 §15.1 "heuristically cacheable").
const CACHEABLE_STATUS = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);

export interface Storable {
  readonly storable: true;
  readonly ttlMs: number;
  readonly staleWhileRevalidateMs: number;
  readonly staleIfErrorMs: number;
  /** Lower-cased header names the response varies on, sorted. */
  readonly vary: readonly string[];
}

export interface NotStorable {
  readonly storable: false;
  readonly reason: string;
}

/**
 * The edge cache's admission rule, deliberately narrower than RFC 9111: the origin must say `public`
 * and give a TTL (s-maxage, else max-age), in CDN-Cache-Control if it sends one, else in Cache-Control. Never stored: Set-Cookie (one user's session handed to the
 * next), private, no-store, no-cache, Vary: *. Because `public` is required, a request that carried
 * Authorization or a cookie is cached only when the origin said `public` (RFC 9111 §3.5).
 */
export function storability(
  statusCode: number,
  headers: readonly string[],
  defaultStaleIfErrorSeconds: number,
): Storable | NotStorable {
  if (!CACHEABLE_STATUS.has(statusCode)) return { storable: false, reason: `status ${statusCode}` };
  const general = parseCacheControl(headerValues(headers, 'cache-control').join(','));
  // RFC 9213: CDN-Cache-Control, when present, is this cache's own policy (an origin can give the edge
  // stale-while-revalidate without giving it to browsers). A Cache-Control that forbids storing still wins.
  const targeted = headerValues(headers, 'cdn-cache-control');
  const cc = targeted.length ? parseCacheControl(targeted.join(',')) : general;
  if (cc.noStore || general.noStore) return { storable: false, reason: 'no-store' };
  if (cc.private || general.private) return { storable: false, reason: 'private' };
  if (cc.noCache) return { storable: false, reason: 'no-cache' };
  if (!cc.public) return { storable: false, reason: 'not public' };
  if (headerValue(headers, 'set-cookie') !== undefined) return { storable: false, reason: 'set-cookie' };
  const ttl = cc.sMaxAge ?? cc.maxAge;
  if (ttl === undefined || ttl <= 0) return { storable: false, reason: 'no ttl' };
  const vary = varyNames(headers);
  if (vary.includes('*')) return { storable: false, reason: 'vary *' };
  return {
    storable: true,
    ttlMs: ttl * 1000,
    staleWhileRevalidateMs: (cc.staleWhileRevalidate ?? 0) * 1000,
    staleIfErrorMs: (cc.staleIfError ?? defaultStaleIfErrorSeconds) * 1000,
    vary,
  };
}

export function varyNames(headers: readonly string[]): string[] {
  const names = headerValues(headers, 'vary')
    .flatMap((v) => v.split(','))
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean);
  return [...new Set(names)].sort();
}
