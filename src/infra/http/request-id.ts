import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

// Accept ids from upstream (the gateway, a client) only when they are short and log-safe.
const SAFE_REQUEST_ID = /^[\w.:=+/-]{1,128}$/;

/** Fastify genReqId: keep a well-formed incoming X-Request-Id, otherwise mint one. */
export function requestIdFor(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}
