import { createServer, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { GatewayConfig } from '../config/gateway-config';
import type { ProxyStats } from '../proxy/proxy-stats';
import { rawJsonError } from './json-error';
import { OVER_CAPACITY } from './request-handler';

/**
 * The public HTTP/1.1 listener with its limits: header size (431), header and whole-request timeouts
 * against slowloris (408), an idle keep-alive timeout, and a connection cap (503 on the excess
 * connection's first request). Anything the parser rejects gets a JSON 400 on the raw socket; a
 * malformed request never reaches a handler, so it cannot crash the gateway.
 */
export function createGatewayServer(
  limits: GatewayConfig['limits'],
  stats: ProxyStats,
  handler: RequestListener,
): Server {
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      // Node measures both from the first byte of a request; bodies get this long in total.
      requestTimeout: Math.max(limits.bodyTimeoutMs, limits.headersTimeoutMs + 1),
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks those timeouts on this interval (30 s by default, too coarse for a short limit).
      connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
      noDelay: true,
      // Checked by the request handler instead, so a missing Host gets the JSON error like any other.
      requireHostHeader: false,
    },
    handler,
  );
  let open = 0;
  server.on('connection', (socket: Socket & { [OVER_CAPACITY]?: boolean }) => {
    open++;
    if (open > limits.maxConnections) socket[OVER_CAPACITY] = true;
    socket.once('close', () => open--);
  });
  // No tunnels and no protocol switches (WebSocket): this gateway proxies HTTP/1.1 requests only.
  server.on('connect', (_req, socket: Socket) =>
    socket.end(rawJsonError(405, 'CONNECT is not allowed through the gateway')),
  );
  server.on('upgrade', (_req, socket: Socket) =>
    socket.end(rawJsonError(501, 'protocol upgrades (WebSocket) are not proxied by this gateway')),
  );
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    const reply = clientErrorReply(err, limits);
    if (reply === undefined || !socket.writable) return void socket.destroy();
    stats.rejected[reply.counter]++;
    socket.end(rawJsonError(reply.statusCode, reply.message));
  });
  return server;
}

interface ClientErrorReply {
  readonly statusCode: number;
  readonly message: string;
  readonly counter: keyof ProxyStats['rejected'];
}

export function clientErrorReply(
  err: Error & { code?: string },
  limits: GatewayConfig['limits'],
): ClientErrorReply | undefined {
  switch (err.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return {
        statusCode: 431,
        message: `request headers exceed ${limits.maxHeaderBytes} bytes`,
        counter: 'headersTooLarge',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        statusCode: 408,
        message: `the request was not received within its time limit (headers: ${limits.headersTimeoutMs} ms)`,
        counter: 'timeout',
      };
    default: {
      // llhttp's reason ("Invalid method encountered") is safe to echo: it names no request content.
      const reason = (err as { reason?: string }).reason ?? 'malformed request';
      return { statusCode: 400, message: `malformed HTTP request: ${reason}`, counter: 'malformed' };
    }
  }
}
