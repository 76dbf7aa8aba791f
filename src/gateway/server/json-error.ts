import { STATUS_CODES, type ServerResponse } from 'node:http';

/** What a gateway response needs of ServerResponse (a background cache refresh has no client). */
export type ClientResponse = Pick<
  ServerResponse,
  'writeHead' | 'write' | 'end' | 'destroy' | 'once' | 'destroyed' | 'headersSent'
>;

/** The project's one error shape: `{ statusCode, error, message }`, error being the reason phrase. */
export function errorBody(statusCode: number, message: string): string {
  return JSON.stringify({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message });
}

/** Answers with a gateway-made JSON error (never cached, carrying the request id when there is one). */
export function sendJsonError(
  res: ClientResponse,
  statusCode: number,
  message: string,
  requestId?: string,
  extra: string[] = [],
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = errorBody(statusCode, message);
  const headers = [
    'content-type',
    'application/json; charset=utf-8',
    'cache-control',
    'no-store',
    'content-length',
    String(Buffer.byteLength(body)),
    ...extra,
  ];
  if (requestId) headers.push('x-request-id', requestId);
  res.writeHead(statusCode, headers);
  res.end(body);
}

/** A complete HTTP/1.1 error response for a raw socket (parser errors, the connection cap), then close. */
export function rawJsonError(statusCode: number, message: string): string {
  const body = errorBody(statusCode, message);
  return (
    `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? 'Error'}\r\n` +
    'content-type: application/json; charset=utf-8\r\ncache-control: no-store\r\nconnection: close\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}
