import { freePort, sleep } from '../../tools/stack/ports';
import { startApi, type ApiInstance } from '../support/api-process';
import { FAST_HEALTH, parseRaw, rawExchange, startGateway, type GatewayInstance } from '../support/gateway-process';
import { errorShape } from '../support/http-client';
import { sharedInfra } from '../support/shared-infra';

/** Hostile and broken clients, over raw sockets: each gets its JSON error, and the gateway stays up. */
describe('gateway: limits and malformed requests (gateway + a real API process)', () => {
  const { env } = sharedInfra();
  let api: ApiInstance;
  let gateway: GatewayInstance;

  beforeAll(async () => {
    api = await startApi(env, 'api-limits');
    gateway = await startGateway(
      {
        UPSTREAMS: api.url,
        ...FAST_HEALTH,
        GATEWAY_MAX_HEADER_BYTES: '4096',
        GATEWAY_MAX_BODY_BYTES: '65536',
        GATEWAY_HEADERS_TIMEOUT_MS: '1000',
      },
      'gateway-limits',
    );
  }, 60_000);
  afterAll(async () => {
    await gateway?.stop();
    await api?.stop();
  });

  const raw = async (text: string) => parseRaw(await rawExchange(gateway.port, (s) => s.write(text)));

  it('answers oversized headers with 431', async () => {
    const res = await raw(`GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`);
    expect(res).toEqual({
      status: 431,
      body: { statusCode: 431, error: 'Request Header Fields Too Large', message: 'request headers exceed 4096 bytes' },
    });
  });

  it('answers a client that never finishes its headers (slowloris) with 408 and closes', async () => {
    const started = Date.now();
    const text = await rawExchange(gateway.port, (s) => {
      s.write('GET /health/live HTTP/1.1\r\nHost: x\r\n');
      // Trickle a header line now and then, as slowloris does, never ending the head.
      const timer = setInterval(() => s.writable && s.write('X-A: b\r\n'), 200);
      s.once('close', () => clearInterval(timer));
    });
    expect(parseRaw(text)).toEqual({ status: 408, body: errorShape(408) });
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it.each([
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost: x\r\nnonsense\r\n\r\n'],
    ['a garbage request line', 'HELLO\r\n\r\n'],
    ['a bad Content-Length', 'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'],
    ['an HTTP/1.1 request without Host', 'GET /health/live HTTP/1.1\r\n\r\n'],
  ])('answers %s with 400', async (_name, text) => {
    expect(await raw(text)).toEqual({ status: 400, body: errorShape(400) });
  });

  it('answers an absolute-form target with 400 instead of proxying anywhere else', async () => {
    const res = await raw('GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
    expect(res).toEqual({
      status: 400,
      body: { statusCode: 400, error: 'Bad Request', message: 'the request target must be a path (origin-form)' },
    });
  });

  it('refuses a body over the limit: declared (before any upstream sees it) or streamed', async () => {
    const declared = await raw(
      'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n',
    );
    expect(declared).toEqual({
      status: 413,
      body: { statusCode: 413, error: 'Payload Too Large', message: 'request body exceeds 65536 bytes' },
    });

    const chunk = 'x'.repeat(16 * 1024);
    const streamed = parseRaw(
      await rawExchange(gateway.port, (s) => {
        s.write(
          'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
        );
        for (let i = 0; i < 6; i++) s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      }),
    );
    expect(streamed).toEqual({ status: 413, body: errorShape(413) });
  });

  it('refuses CONNECT, TRACE and protocol upgrades', async () => {
    expect(await raw('TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toEqual({
      status: 405,
      body: errorShape(405),
    });
    expect(await raw('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')).toEqual({
      status: 405,
      body: errorShape(405),
    });
    const upgrade = await raw('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    expect(upgrade).toEqual({ status: 501, body: errorShape(501) });
  });

  it('stays up after all of that, and counts the rejections', async () => {
    expect(gateway.process.state).toBe('running');
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
    const { totals } = await gateway.status();
    expect(totals.rejected).toMatchObject({ headersTooLarge: 1, timeout: 1, bodyTooLarge: 2 });
    expect(totals.rejected.malformed).toBeGreaterThanOrEqual(4);
  });

  it('answers 503 at once, never hangs, when no upstream is healthy', async () => {
    const dead = await startGateway(
      { UPSTREAMS: `http://127.0.0.1:${await freePort()}`, ...FAST_HEALTH },
      'gateway-dead',
    );
    try {
      const started = Date.now();
      const res = await fetch(`${dead.url}/articles`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'no healthy upstream',
      });
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(await (await fetch(`${dead.url}/_gateway/health`)).json()).toMatchObject({
        status: 'no upstream available',
      });
    } finally {
      await dead.stop();
    }
  });

  it('caps connections: the connection over the limit gets 503 on its first request', async () => {
    const capped = await startGateway(
      { UPSTREAMS: api.url, ...FAST_HEALTH, GATEWAY_MAX_CONNECTIONS: '2' },
      'gateway-capped',
    );
    try {
      const { connect } = await import('node:net');
      const held = [connect(capped.port, '127.0.0.1'), connect(capped.port, '127.0.0.1')];
      await sleep(200);
      const res = parseRaw(
        await rawExchange(capped.port, (s) => s.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n')),
      );
      expect(res).toEqual({ status: 503, body: errorShape(503) });
      for (const s of held) s.destroy();
      await sleep(200);
      expect((await fetch(`${capped.url}/health/live`)).status).toBe(200);
    } finally {
      await capped.stop();
    }
  });

  it('on SIGTERM stops accepting, finishes the request in flight, and exits 0', async () => {
    const draining = await startGateway({ UPSTREAMS: api.url, ...FAST_HEALTH }, 'gateway-sigterm');
    const body = JSON.stringify({ email: 'nobody@example.com', password: 'not the password' });
    const response = rawExchange(draining.port, (s) => {
      s.write(
        `POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      s.write(body.slice(0, 10));
      // The rest arrives after SIGTERM: the request is in flight on the gateway throughout.
      setTimeout(() => s.write(body.slice(10)), 700);
    });
    await sleep(200);
    draining.process.signal('SIGTERM');
    await sleep(200);
    await expect(fetch(`${draining.url}/health/live`)).rejects.toThrow();
    expect(parseRaw(await response)).toMatchObject({ status: 401, body: { statusCode: 401 } });
    expect(await draining.process.waitForExit()).toBe(0);
  });
});
