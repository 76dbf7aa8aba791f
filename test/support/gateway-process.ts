import { mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManagedProcess } from '../../tools/stack/managed-process';
import { nodeProgram, waitForHttp } from '../../tools/stack/node-programs';
import { freePort, sleep } from '../../tools/stack/ports';
import { waitForLogLine } from './api-process';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

/** Fast checks for tests: an upstream leaves after 2 × 200 ms of failures and returns after 2 × 200 ms. */
export const FAST_HEALTH = {
  UPSTREAM_HEALTH_INTERVAL_MS: '200',
  UPSTREAM_HEALTH_TIMEOUT_MS: '150',
  UPSTREAM_HEALTH_RISE: '2',
  UPSTREAM_HEALTH_FALL: '2',
  UPSTREAM_EJECT_BASE_MS: '200',
} as const;

/** A real gateway process (node dist/gateway/main.js) on a free port, as `npm run stack` starts it. */
export interface GatewayInstance {
  readonly url: string;
  readonly port: number;
  readonly process: ManagedProcess;
  log(): string;
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** GET /_gateway/status (with the admin token). */
  status(): Promise<GatewayStatus>;
  /** POST a JSON body to an admin route; returns status and parsed body. */
  admin(path: string, body: unknown, token?: string | null): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export interface UpstreamStatus {
  readonly url: string;
  readonly status: string;
  readonly available: boolean;
  readonly inFlight: number;
  readonly requests: number;
  readonly failures: { connect: number; timeout: number; reset: number };
  readonly ejections: number;
  readonly checks: { ok: number; failed: number; consecutiveSuccesses: number; consecutiveFailures: number };
}

export interface GatewayStatus {
  readonly status: string;
  readonly upstreams: UpstreamStatus[];
  readonly totals: Record<string, any>;
  readonly edgeCache: Record<string, number> | null;
  readonly discovery: Record<string, unknown>;
}

const logDir = mkdtempSync(join(tmpdir(), 'z2m-gateway-logs-'));

export async function startGateway(env: Record<string, string>, name = 'gateway'): Promise<GatewayInstance> {
  // env may pin GATEWAY_PORT: origins that purge it must know its address before it starts.
  const port = env.GATEWAY_PORT ? Number(env.GATEWAY_PORT) : await freePort();
  const proc = nodeProgram({
    name,
    script: 'gateway/main.js',
    env: {
      ...process.env,
      NODE_ENV: 'test',
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      ...env,
      GATEWAY_PORT: String(port),
    },
    logFile: join(logDir, `${name}-${port}.log`),
  });
  proc.start();
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/_gateway/health`, proc);
  const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  return {
    url,
    port,
    process: proc,
    log: () => proc.logTail(Number.MAX_SAFE_INTEGER),
    waitForLog: (match, timeoutMs = 5000) =>
      waitForLogLine(() => proc.logTail(Number.MAX_SAFE_INTEGER), match, timeoutMs),
    status: async () => (await (await fetch(`${url}/_gateway/status`, { headers: auth })).json()) as GatewayStatus,
    admin: async (path, body, token = TEST_ADMIN_TOKEN) => {
      const res = await fetch(`${url}/_gateway/${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, body: await res.json().catch(() => undefined) };
    },
    stop: () => proc.stop('SIGTERM', 15_000),
  };
}

/** Polls the gateway until `predicate` holds for its status, or fails with the last status seen. */
export async function waitForStatus(
  gateway: GatewayInstance,
  predicate: (s: GatewayStatus) => boolean,
  timeoutMs = 15_000,
): Promise<GatewayStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await gateway.status();
    if (predicate(status)) return status;
    if (Date.now() > deadline) throw new Error(`gateway status never matched: ${JSON.stringify(status.upstreams)}`);
    await sleep(25);
  }
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One HTTP request from a chosen loopback source address (to play a distinct client IP); a POST when `json` is given. */
export function requestFrom(
  localAddress: string,
  url: string,
  headers: Record<string, string> = {},
  json?: unknown,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const data = json === undefined ? undefined : JSON.stringify(json);
    const bodyHeaders =
      data === undefined
        ? {}
        : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)) };
    const req = httpRequest(
      url,
      {
        method: data === undefined ? 'GET' : 'POST',
        localAddress,
        headers: { ...bodyHeaders, ...headers },
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** Writes raw bytes on a fresh TCP connection (from `localAddress`, to play a distinct client) and collects everything until the server closes it. */
export function rawExchange(
  port: number,
  write: (socket: Socket) => void,
  timeoutMs = 10_000,
  localAddress?: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got: ${received}`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on('connect', () => write(socket));
  });
}

/** Status code and parsed JSON body of a raw HTTP/1.1 response text. */
export function parseRaw(text: string): { status: number; body: any } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  try {
    return { status, body: JSON.parse(body) };
  } catch {
    return { status, body };
  }
}

/** Sum of the API's http_requests_total samples for one route (and status) across instances: origin requests. */
export async function originRequests(apiUrls: readonly string[], route: string, status?: number): Promise<number> {
  let total = 0;
  for (const url of apiUrls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const line of text.split('\n')) {
      if (!line.startsWith('http_requests_total{') || !line.includes(`route="${route}"`)) continue;
      if (status === undefined || line.includes(`status_code="${status}"`)) total += Number(line.split(' ').at(-1));
    }
  }
  return total;
}
