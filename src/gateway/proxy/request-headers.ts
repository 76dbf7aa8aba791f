import { randomUUID } from 'node:crypto';
import { connectionTokens, isHopByHop } from './hop-by-hop';

export const REQUEST_ID_HEADER = 'x-request-id';
// The API keeps an incoming id only when it matches this too (src/infra/http/request-id.ts); a protocol detail.
const SAFE_REQUEST_ID = /^[\w.:=+/-]{1,128}$/;

export type TrustFn = (address: string, hop: number) => boolean;

export interface ForwardedRequest {
  /** Flat [name, value, ...] list for undici; the client's raw order, minus what the gateway replaces. */
  readonly headers: string[];
  readonly requestId: string;
  readonly host: string;
  /** Authorization or Cookie present: only a `public` response may be cached for such a request. */
  readonly credentialed: boolean;
  readonly conditional: boolean;
  /** Declared Content-Length, or -1 when there is none. */
  readonly contentLength: number;
  /** Transfer-Encoding present: a streamed body of unknown length. */
  readonly chunked: boolean;
  /** A Range request: the edge cache passes it through. */
  readonly ranged: boolean;
}

/**
 * Builds the upstream request headers from the client's raw headers in one pass: drops hop-by-hop
 * headers, passes or mints X-Request-Id, and sets X-Forwarded-For/-Proto/-Host. A client's own
 * forwarding headers (and Forwarded, X-Real-IP) are dropped unless its address is a trusted proxy, so
 * nobody can claim another IP; from a trusted proxy the chain is kept and the peer appended.
 */
export function forwardRequest(raw: readonly string[], peer: string, trust: TrustFn | null): ForwardedRequest {
  const headers: string[] = [];
  let host = '';
  let requestId = '';
  let xff = '';
  let xfp = '';
  let xfh = '';
  let forwardedParts: string[] | null = null;
  let tokens: string[] | null = null;
  let credentialed = false;
  let conditional = false;
  let contentLength = -1;
  let chunked = false;
  let ranged = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (isHopByHop(lower)) {
      if (lower === 'connection') (tokens ??= []).push(...connectionTokens(value));
      else if (lower === 'transfer-encoding') chunked = true;
      continue;
    }
    switch (lower) {
      case 'host':
        if (!host) host = value;
        break;
      case REQUEST_ID_HEADER:
        if (!requestId && SAFE_REQUEST_ID.test(value)) requestId = value;
        continue;
      case 'x-forwarded-for':
        xff = xff ? `${xff}, ${value}` : value;
        continue;
      case 'x-forwarded-proto':
        if (!xfp) xfp = value;
        continue;
      case 'x-forwarded-host':
        if (!xfh) xfh = value;
        continue;
      case 'forwarded':
      case 'x-real-ip':
        (forwardedParts ??= []).push(name, value);
        continue;
      case 'content-length':
        contentLength = Number(value);
        break;
      case 'authorization':
      case 'cookie':
        credentialed = true;
        break;
      case 'if-none-match':
      case 'if-modified-since':
        conditional = true;
        break;
      case 'range':
        ranged = true;
        break;
    }
    headers.push(name, value);
  }
  const trusted =
    trust !== null && (xff !== '' || xfp !== '' || xfh !== '' || forwardedParts !== null) && trust(peer, 0);
  if (trusted && forwardedParts) headers.push(...forwardedParts);
  if (!requestId) requestId = randomUUID();
  headers.push(
    'x-forwarded-for',
    trusted && xff ? `${xff}, ${peer}` : peer,
    'x-forwarded-proto',
    trusted && xfp ? xfp : 'http',
  );
  const forwardedHost = trusted && xfh ? xfh : host;
  if (forwardedHost) headers.push('x-forwarded-host', forwardedHost);
  headers.push(REQUEST_ID_HEADER, requestId);
  return {
    headers: tokens ? withoutNames(headers, tokens) : headers,
    requestId,
    host,
    credentialed,
    conditional,
    contentLength,
    chunked,
    ranged,
  };
}

/** A copy of a flat header list without the given (lower-case) names. */
export function withoutNames(headers: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!names.includes(headers[i]!.toLowerCase())) out.push(headers[i]!, headers[i + 1]!);
  }
  return out;
}
