import { freePort, sleep } from '../../tools/stack/ports';
import { startApi, type ApiInstance } from '../support/api-process';
import { startDnsServer, type TestDnsServer } from '../support/dns-server';
import {
  FAST_HEALTH,
  requestFrom,
  startGateway,
  TEST_ADMIN_TOKEN,
  waitForStatus,
  type GatewayInstance,
} from '../support/gateway-process';
import { errorShape, HttpClient } from '../support/http-client';
import { Load } from '../support/load';
import { sharedInfra } from '../support/shared-infra';

/**
 * Balancing, forwarding headers, the admin API and discovery, against three real API instances that
 * listen on one port at three loopback addresses (127.0.0.1-3), so DNS A records can name them.
 */
describe('gateway: balancing, forwarded headers, admin API and discovery (gateway + 3 API processes)', () => {
  const { env } = sharedInfra();
  let apis: ApiInstance[];
  let gateway: GatewayInstance;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    // The APIs trust the gateway (127.0.0.1) and a CDN in front of it (127.0.0.6), as TRUST_PROXY documents.
    apis = await Promise.all(
      [1, 2, 3].map((i) =>
        startApi(env, `api-${i}`, { HOST: `127.0.0.${i}`, PORT: String(port), TRUST_PROXY: '127.0.0.1,::1,127.0.0.6' }),
      ),
    );
    gateway = await startGateway(
      { UPSTREAMS: apis.map((a) => a.url).join(','), ...FAST_HEALTH, GATEWAY_TRUSTED_PROXIES: '127.0.0.6' },
      'gateway-proxy',
    );
  }, 90_000);
  afterAll(async () => {
    await gateway?.stop();
    await Promise.all((apis ?? []).map((a) => a.stop()));
  });

  const servedBy = async (url: string, n: number, headers: Record<string, string> = {}) => {
    const load = new Load({
      baseUrl: url,
      concurrency: 6,
      maxRequests: n,
      maxMs: 30_000,
      next: () => ({ op: 'read', method: 'GET', path: '/health/live', headers }),
    });
    await load.done;
    expect(load.failures()).toEqual([]);
    const counts: Record<string, number> = {};
    for (const r of load.results) counts[r.servedBy!] = (counts[r.servedBy!] ?? 0) + 1;
    return counts;
  };

  it('spreads 300 GETs round-robin: each instance within ±10% of a third', async () => {
    const counts = await servedBy(gateway.url, 300);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(300);
    expect(Object.keys(counts).sort()).toEqual(['api-1', 'api-2', 'api-3']);
    for (const n of Object.values(counts)) expect(Math.abs(n - 100)).toBeLessThanOrEqual(10);
  });

  it('passes a well-formed X-Request-Id through to the API log, and mints one otherwise', async () => {
    const id = `client-${Date.now()}`;
    const res = await fetch(`${gateway.url}/articles?limit=1`, { headers: { 'x-request-id': id } });
    expect(res.headers.get('x-request-id')).toBe(id);
    const api = apis.find((a) => a.name === res.headers.get('x-served-by'))!;
    expect(await api.waitForLog((l) => l.requestId === id)).toMatchObject({ req: { url: '/articles?limit=1' } });

    const minted = await fetch(`${gateway.url}/health/live`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(minted.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("overwrites a client's spoofed X-Forwarded-For, so the API logs the real client IP", async () => {
    const id = `spoof-${Date.now()}`;
    const res = await requestFrom('127.0.0.5', `${gateway.url}/health/live`, {
      'x-forwarded-for': '6.6.6.6',
      'x-request-id': id,
    });
    expect(res.status).toBe(200);
    const api = apis.find((a) => a.name === res.headers['x-served-by'])!;
    const line = await api.waitForLog((l) => l.requestId === id && !!l.req);
    expect((line.req as { ip: string }).ip).toBe('127.0.0.5');
  });

  it('keeps the chain from a trusted proxy (GATEWAY_TRUSTED_PROXIES), so the API logs the original client', async () => {
    const id = `cdn-${Date.now()}`;
    const res = await requestFrom('127.0.0.6', `${gateway.url}/health/live`, {
      'x-forwarded-for': '203.0.113.7',
      'x-request-id': id,
    });
    const api = apis.find((a) => a.name === res.headers['x-served-by'])!;
    const line = await api.waitForLog((l) => l.requestId === id && !!l.req);
    expect((line.req as { ip: string }).ip).toBe('203.0.113.7');
  });

  it('guards the admin API with the token and answers bad input with the error shape', async () => {
    expect((await fetch(`${gateway.url}/_gateway/status`)).status).toBe(401);
    expect(await gateway.admin('upstreams', { action: 'remove', url: apis[2]!.url }, null)).toEqual({
      status: 401,
      body: errorShape(401),
    });
    expect(
      (await gateway.admin('upstreams', { action: 'remove', url: apis[2]!.url }, 'wrong-token-wrong-token')).status,
    ).toBe(401);
    expect(await gateway.admin('upstreams', '{not json', TEST_ADMIN_TOKEN)).toEqual({
      status: 400,
      body: errorShape(400),
    });
    const noUrl = await gateway.admin('upstreams', { action: 'add' });
    expect(noUrl).toMatchObject({
      status: 400,
      body: { statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/^url: /) },
    });
    expect((await gateway.admin('upstreams', { action: 'add', url: 'ftp://x:1' })).body.message).toMatch(
      /^url: must be an http/,
    );
    expect((await gateway.admin('upstreams', { action: 'add', url: apis[0]!.url, extra: 1 })).status).toBe(400);
    expect((await gateway.admin('upstreams', { action: 'remove', url: 'http://127.0.0.1:1' })).status).toBe(404);
    expect((await gateway.admin('upstreams', { action: 'add', url: apis[0]!.url })).status).toBe(409);
    expect(
      (await fetch(`${gateway.url}/_gateway/nope`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } }))
        .status,
    ).toBe(404);
    const wrongMethod = await fetch(`${gateway.url}/_gateway/upstreams`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.json()).toEqual(errorShape(405));
  });

  it('removes and adds an upstream at run time through POST /_gateway/upstreams', async () => {
    const third = apis[2]!;
    const removed = await gateway.admin('upstreams', { action: 'remove', url: third.url });
    expect(removed).toMatchObject({ status: 200, body: { upstreams: [apis[0]!.url, apis[1]!.url] } });
    expect(Object.keys(await servedBy(gateway.url, 30)).sort()).toEqual(['api-1', 'api-2']);

    expect(await gateway.admin('upstreams', { action: 'add', url: third.url })).toMatchObject({ status: 201 });
    await waitForStatus(gateway, (s) => s.upstreams.find((u) => u.url === third.url)?.available === true);
    expect(Object.keys(await servedBy(gateway.url, 30)).sort()).toEqual(['api-1', 'api-2', 'api-3']);
    const status = await gateway.status();
    expect(status.upstreams.find((u) => u.url === third.url)).toMatchObject({ source: 'admin', status: 'up' });
  });

  it("keeps the instances' /metrics off the public side, however the path is spelled", async () => {
    for (const path of ['/metrics', '/metrics?x=1', '/%6Detrics', '//metrics']) {
      const res = await new HttpClient(gateway.url).get(path);
      expect(res.status).toBe(404);
      expect(res.body).toEqual(errorShape(404));
      expect(res.text).not.toContain('http_requests_total');
    }
    // Still served on the private address, where Prometheus scrapes each instance.
    expect((await new HttpClient(apis[0]!.url).get('/metrics')).text).toContain('http_requests_total');
    expect((await gateway.status()).totals.rejected.privatePath).toBeGreaterThanOrEqual(4);
  });

  it('serves status JSON and Prometheus metrics', async () => {
    const status = await gateway.status();
    expect(status.upstreams).toHaveLength(3);
    expect(status.totals.responses['2xx']).toBeGreaterThan(300);
    expect(status.edgeCache).toMatchObject({
      hits: expect.any(Number),
      misses: expect.any(Number),
      bytes: expect.any(Number),
    });
    const text = await (
      await fetch(`${gateway.url}/_gateway/metrics`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })
    ).text();
    for (const api of apis)
      expect(text).toContain(`gateway_upstream_available{upstream="${api.url}",service="gateway"} 1`);
    expect(text).toMatch(/^gateway_responses_total\{class="2xx",service="gateway"\} \d+$/m);
    expect(text).toMatch(/^gateway_request_duration_seconds_count\{service="gateway"\} \d+$/m);
  });

  describe('DNS discovery (a name re-resolved on an interval, like compose --scale or a headless service)', () => {
    let dns: TestDnsServer;
    let viaDns: GatewayInstance;

    beforeAll(async () => {
      dns = await startDnsServer();
      dns.set('api.test', ['127.0.0.1']);
      viaDns = await startGateway(
        {
          UPSTREAM_DNS: `api.test:${port}`,
          UPSTREAM_DNS_SERVERS: `127.0.0.1:${dns.port}`,
          UPSTREAM_DNS_INTERVAL_MS: '200',
          ...FAST_HEALTH,
        },
        'gateway-dns',
      );
    });
    afterAll(async () => {
      await viaDns?.stop();
      await dns?.close();
    });

    it('follows the A records without a restart: scale out, then replace', async () => {
      expect(Object.keys(await servedBy(viaDns.url, 12))).toEqual(['api-1']);
      dns.set('api.test', ['127.0.0.1', '127.0.0.2']);
      await waitForStatus(viaDns, (s) => s.upstreams.length === 2 && s.upstreams.every((u) => u.available));
      expect(Object.keys(await servedBy(viaDns.url, 12)).sort()).toEqual(['api-1', 'api-2']);
      dns.set('api.test', ['127.0.0.3']);
      const s = await waitForStatus(viaDns, (st) => st.upstreams.length === 1 && st.upstreams[0]!.available);
      expect(s.upstreams[0]).toMatchObject({ url: apis[2]!.url, source: 'dns' });
      expect(s.discovery).toMatchObject({ kind: 'dns', name: `api.test:${port}` });
      expect(Object.keys(await servedBy(viaDns.url, 12))).toEqual(['api-3']);
    });

    it('keeps the last known upstreams when the name stops resolving', async () => {
      dns.set('nothing.test', []);
      dns.set('api.test', []);
      await sleep(600);
      const s = await viaDns.status();
      expect(s.upstreams.map((u) => u.url)).toEqual([apis[2]!.url]);
      expect((await fetch(`${viaDns.url}/health/live`)).status).toBe(200);
    });
  });

  it('keeps a client on one instance with sticky sessions on (off by default)', async () => {
    const sticky = await startGateway(
      { UPSTREAMS: apis.map((a) => a.url).join(','), ...FAST_HEALTH, GATEWAY_STICKY_SESSIONS: 'true' },
      'gateway-sticky',
    );
    try {
      const client = new HttpClient(sticky.url);
      const first = await client.get('/health/live');
      expect(client.cookie('gw_upstream')).toMatch(/^[\w-]{16}$/);
      for (let i = 0; i < 6; i++)
        expect((await client.get('/health/live')).headers.get('x-served-by')).toBe(first.headers.get('x-served-by'));
      // Without the cookie, round-robin as usual; the default gateway sets no such cookie at all.
      expect(Object.keys(await servedBy(sticky.url, 9)).sort()).toEqual(['api-1', 'api-2', 'api-3']);
      expect((await fetch(`${gateway.url}/health/live`)).headers.get('set-cookie')).toBeNull();
    } finally {
      await sticky.stop();
    }
  });
});
