import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AdminApi } from '../admin/admin-api';
import { ADMIN_PREFIX } from '../admin/admin-api';
import type { EdgeCache } from '../cache/edge-cache';
import type { GatewayConfig } from '../config/gateway-config';
import type { PrivatePaths } from '../proxy/private-paths';
import { ProxyExchange, type ProxyContext } from '../proxy/proxy-exchange';
import { forwardRequest, type TrustFn } from '../proxy/request-headers';
import type { StickySessions } from '../proxy/sticky-sessions';
import { limitedBody } from './body-limit';
import { type ClientResponse, sendJsonError } from './json-error';

/** Set on sockets accepted beyond GATEWAY_MAX_CONNECTIONS: their first request gets a 503 and a close. */
export const OVER_CAPACITY = Symbol('overCapacity');

export interface RequestHandlerDeps {
  readonly ctx: ProxyContext;
  readonly cache: EdgeCache | null;
  /** The admin API when it shares the public listener (no GATEWAY_ADMIN_PORT). */
  readonly admin: AdminApi | null;
  readonly trust: TrustFn | null;
  readonly sticky: StickySessions | null;
  readonly privatePaths: PrivatePaths;
  readonly limits: GatewayConfig['limits'];
  readonly draining: () => boolean;
}

/** The public listener's request handler: limits first, then the admin API, the edge cache or the proxy. */
export class RequestHandler {
  constructor(private readonly deps: RequestHandlerDeps) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const { deps } = this;
    const stats = deps.ctx.stats;
    const url = req.url!;
    if ((req.socket as Socket & { [OVER_CAPACITY]?: boolean })[OVER_CAPACITY]) {
      stats.rejected.connectionCap++;
      res.shouldKeepAlive = false;
      return sendJsonError(
        res,
        503,
        `too many connections (limit ${deps.limits.maxConnections}); try again`,
        undefined,
        ['retry-after', '1'],
      );
    }
    if (deps.draining()) res.shouldKeepAlive = false;
    if (url.charCodeAt(0) !== 47 /* '/' */)
      return sendJsonError(res, 400, 'the request target must be a path (origin-form)');
    if (url.startsWith(ADMIN_PREFIX)) {
      if (deps.admin !== null) return deps.admin.handle(req, res, true);
      return sendJsonError(res, 404, 'the admin API is on its own port (GATEWAY_ADMIN_PORT)');
    }
    if (deps.privatePaths.enabled && deps.privatePaths.matches(url)) {
      stats.rejected.privatePath++;
      return sendJsonError(res, 404, `${url.split('?')[0]} is not served through the gateway (GATEWAY_PRIVATE_PATHS)`);
    }
    const method = req.method!;
    if (method === 'CONNECT' || method === 'TRACE')
      return sendJsonError(res, 405, `${method} is not allowed through the gateway`);

    const fwd = forwardRequest(req.rawHeaders, req.socket.remoteAddress ?? '', deps.trust);
    if (fwd.host === '' && req.httpVersionMinor === 1) {
      stats.rejected.malformed++;
      res.shouldKeepAlive = false;
      return sendJsonError(res, 400, 'malformed HTTP request: HTTP/1.1 requires a Host header', fwd.requestId);
    }
    if (fwd.contentLength > deps.limits.maxBodyBytes) {
      stats.rejected.bodyTooLarge++;
      res.shouldKeepAlive = false;
      return sendJsonError(res, 413, `request body exceeds ${deps.limits.maxBodyBytes} bytes`, fwd.requestId);
    }
    const body = fwd.contentLength > 0 ? req : fwd.chunked ? limitedBody(req, deps.limits.maxBodyBytes) : null;
    if (deps.cache !== null && body === null && (method === 'GET' || method === 'HEAD'))
      return deps.cache.handle(req, res, fwd);
    this.exchange(req, method, url, res, fwd.headers, fwd.requestId, body).start();
  };

  /** A ProxyExchange with sticky-session affinity applied when it is on. */
  exchange(
    req: IncomingMessage,
    method: string,
    target: string,
    res: ClientResponse,
    headers: string[],
    requestId: string,
    body: ProxyExchange['body'] = null,
  ): ProxyExchange {
    const exchange = new ProxyExchange(this.deps.ctx, method, target, res, headers, requestId, body);
    const sticky = this.deps.sticky;
    if (sticky !== null) {
      const current = sticky.cookieValue(req.headers.cookie);
      exchange.preferred = sticky.upstreamFor(current);
      exchange.affinity = (upstream) => sticky.cookieFor(upstream, current);
    }
    return exchange;
  }
}
