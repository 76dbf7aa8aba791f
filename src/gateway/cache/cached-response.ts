import type { IncomingHttpHeaders } from 'node:http';
import type { ClientResponse } from '../server/json-error';
import { headerValue } from '../proxy/response-headers';
import type { CachedResponse } from './edge-cache-store';
import type { Storable } from './edge-cache-policy';

export type CacheLabel = 'HIT' | 'MISS' | 'STALE' | 'REVALIDATED' | 'BYPASS';

// Per delivery, never stored: the gateway sets them for each response it serves from the cache.
const NOT_STORED = new Set(['age', 'x-request-id', 'x-edge-cache', 'connection', 'keep-alive']);

export function storedHeaders(headers: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2)
    if (!NOT_STORED.has(headers[i]!.toLowerCase())) out.push(headers[i]!, headers[i + 1]!);
  return out;
}

/** Builds a cache entry from a complete origin response. */
export function cachedResponse(
  path: string,
  statusCode: number,
  headers: readonly string[],
  body: Buffer,
  decision: Storable,
  requestHeaders: IncomingHttpHeaders,
  now: number,
): CachedResponse {
  const stored = storedHeaders(headers);
  const varyValues: IncomingHttpHeaders = {};
  for (const name of decision.vary) varyValues[name] = requestHeaders[name];
  return {
    kind: 'response',
    path,
    statusCode,
    headers: stored,
    body,
    etag: headerValue(headers, 'etag'),
    lastModified: headerValue(headers, 'last-modified'),
    bornAt: now - originAgeMs(headers),
    ttlMs: decision.ttlMs,
    staleWhileRevalidateMs: decision.staleWhileRevalidateMs,
    staleIfErrorMs: decision.staleIfErrorMs,
    vary: decision.vary,
    varyValues,
    size: body.length + stored.reduce((n, h) => n + h.length, 0) + 256,
  };
}

/** Age the origin (or a cache before it) reported: the response was already that old when we got it. */
export function originAgeMs(headers: readonly string[]): number {
  const age = Number(headerValue(headers, 'age'));
  return Number.isFinite(age) && age > 0 ? age * 1000 : 0;
}

/** Does the request's value of every Vary header match the one the entry was fetched with? */
export function matchesVary(entry: CachedResponse, headers: IncomingHttpHeaders): boolean {
  for (const name of entry.vary)
    if (String(headers[name] ?? '').trim() !== String(entry.varyValues[name] ?? '').trim()) return false;
  return true;
}

/** Writes a cached response with Age and X-Edge-Cache; answers 304 when the client already has it. */
export function serveCached(
  res: ClientResponse,
  entry: CachedResponse,
  label: CacheLabel,
  now: number,
  method: string,
  requestId: string,
  ifNoneMatch: string | undefined,
): number {
  const age = Math.max(0, Math.floor((now - entry.bornAt) / 1000));
  const notModified = ifNoneMatch !== undefined && entry.etag !== undefined && etagMatches(ifNoneMatch, entry.etag);
  const headers = notModified
    ? entry.headers.filter((_, i, all) => !BODY_HEADERS.has(all[i - (i % 2)]!.toLowerCase()))
    : entry.headers.slice();
  headers.push('age', String(age), 'x-edge-cache', label, 'x-request-id', requestId);
  const statusCode = notModified ? 304 : entry.statusCode;
  res.writeHead(statusCode, headers);
  res.end(notModified || method === 'HEAD' ? undefined : entry.body);
  return statusCode;
}

const BODY_HEADERS = new Set(['content-length', 'content-type', 'content-encoding', 'content-range']);

/** If-None-Match uses weak comparison (RFC 9110 §13.1.2): W/ prefixes are ignored; `*` matches. */
export function etagMatches(ifNoneMatch: string, etag: string): boolean {
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  const target = strip(etag);
  return ifNoneMatch.split(',').some((t) => t.trim() === '*' || strip(t) === target);
}
