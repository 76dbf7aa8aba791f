import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sleep } from '../../tools/stack/ports';
import { FAST_HEALTH, startGateway, type GatewayInstance } from '../support/gateway-process';

/**
 * The edge cache's refusals and stale modes, against an origin that gets caching wrong on purpose
 * (the API never sends these headers: it marks cookie responses private and its JSON no-store). The
 * origin is a real HTTP server in this process that counts the requests it serves, per path.
 */
describe('gateway edge cache rules against a misconfigured origin (gateway process + HTTP origin)', () => {
  let origin: Server;
  let gateway: GatewayInstance;
  const hits = new Map<string, number>();
  const hitsOf = (path: string) => hits.get(path) ?? 0;
  const ME_DELAY_MS = 300;
  // Requests for /me at the origin now, and the most at once.
  let inFlight = 0;
  let mostInFlight = 0;

  const routes: Record<
    string,
    (req: IncomingMessage, n: number) => { headers: Record<string, string>; body: string; delayMs?: number }
  > = {
    '/health/ready': () => ({ headers: {}, body: '{"status":"ok"}' }),
    // Public with a TTL, but it sets a cookie: one user's session must never reach another.
    '/public-cookie': (_req, n) => ({
      headers: { 'cache-control': 'public, max-age=60', 'set-cookie': `session=user-${n}` },
      body: `for user ${n}`,
      delayMs: 150,
    }),
    '/private': (_req, n) => ({ headers: { 'cache-control': 'private, max-age=60' }, body: `private ${n}` }),
    // Like /auth/me: one URL for every user, a slow answer about the user who asked.
    '/me': (req) => ({
      headers: { 'cache-control': 'private, no-store' },
      body: `me: ${req.headers.cookie}`,
      delayMs: ME_DELAY_MS,
    }),
    '/no-public': (_req, n) => ({ headers: { 'cache-control': 'max-age=60' }, body: `not public ${n}` }),
    '/vary': (req) => ({
      headers: { 'cache-control': 'public, max-age=60', vary: 'Accept-Language' },
      body: `lang=${req.headers['accept-language']}`,
    }),
    '/swr': (_req, n) => ({
      headers: { 'cache-control': 'public, max-age=1, stale-while-revalidate=30' },
      body: `version ${n}`,
    }),
    '/sie': (_req, n) => ({
      headers: { 'cache-control': 'public, max-age=1, stale-if-error=60' },
      body: `version ${n}`,
    }),
  };

  beforeAll(async () => {
    origin = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = req.url!.split('?')[0]!;
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      const route = routes[path];
      if (!route) return void res.writeHead(404).end();
      const { headers, body, delayMs = 0 } = route(req, n);
      const me = path === '/me';
      if (me) mostInFlight = Math.max(mostInFlight, ++inFlight);
      setTimeout(() => {
        if (me) inFlight--;
        res.writeHead(200, { 'content-type': 'text/plain', ...headers }).end(body);
      }, delayMs);
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    gateway = await startGateway({ UPSTREAMS: url, ...FAST_HEALTH }, 'gateway-cache-rules');
  }, 30_000);
  afterAll(async () => {
    await gateway?.stop();
    origin?.closeAllConnections();
    await new Promise((resolve) => origin?.close(resolve));
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(gateway.url + path, { headers });

  it('never coalesces requests with credentials: concurrent signed-in GETs of one URL reach the origin together', async () => {
    mostInFlight = 0;
    const users = ['alice', 'bob', 'carol', 'dave', 'erin'];
    const started = Date.now();
    const responses = await Promise.all(
      users.map(async (u) => {
        const res = await get('/me', { cookie: `sid=${u}` });
        return { body: await res.text(), ms: Date.now() - started };
      }),
    );
    // All five were at the origin at once: none queued behind another's response (they used to, one origin
    // time each: 243, 484, 484, 559 and 559 ms with a 200 ms origin).
    expect(mostInFlight).toBe(users.length);
    expect(responses.map((r) => r.body)).toEqual(users.map((u) => `me: sid=${u}`));
    expect(hitsOf('/me')).toBe(users.length);
    console.log(`5 concurrent signed-in GETs, ${ME_DELAY_MS} ms origin: ${responses.map((r) => r.ms).join(', ')} ms`);
  });

  it('never stores Set-Cookie, even when public: concurrent requests each get their own cookie', async () => {
    const responses = await Promise.all(Array.from({ length: 5 }, () => get('/public-cookie')));
    const cookies = responses.map((r) => r.headers.get('set-cookie'));
    expect(new Set(cookies).size).toBe(5);
    expect(responses.map((r) => r.headers.get('x-edge-cache'))).toEqual(Array(5).fill('MISS'));
    expect((await get('/public-cookie')).headers.get('x-edge-cache')).toBe('MISS');
    expect(hitsOf('/public-cookie')).toBe(6);
  });

  it('never stores private, nor a non-public response to a request with Authorization', async () => {
    for (let i = 0; i < 2; i++) expect((await get('/private')).headers.get('x-edge-cache')).toBe('MISS');
    for (let i = 0; i < 2; i++)
      expect((await get('/no-public', { authorization: 'Bearer abc' })).headers.get('x-edge-cache')).toBe('MISS');
    expect(hitsOf('/private')).toBe(2);
    expect(hitsOf('/no-public')).toBe(2);
  });

  it('keeps one variant per Vary header value', async () => {
    const fetchLang = async (lang: string) => {
      const res = await get('/vary', { 'accept-language': lang });
      return [res.headers.get('x-edge-cache'), await res.text()];
    };
    expect(await fetchLang('en')).toEqual(['MISS', 'lang=en']);
    expect(await fetchLang('en')).toEqual(['HIT', 'lang=en']);
    expect(await fetchLang('fr')).toEqual(['MISS', 'lang=fr']);
    expect(await fetchLang('fr')).toEqual(['HIT', 'lang=fr']);
    expect(await fetchLang('en')).toEqual(['HIT', 'lang=en']);
    expect(hitsOf('/vary')).toBe(2);
  });

  it('serves STALE during stale-while-revalidate and refreshes in the background', async () => {
    expect(await (await get('/swr')).text()).toBe('version 1');
    await sleep(1200);
    const stale = await get('/swr');
    expect(stale.headers.get('x-edge-cache')).toBe('STALE');
    expect(await stale.text()).toBe('version 1');
    // The origin counts the refresh when it arrives; the gateway stores it a moment later. Until then each request
    // is served STALE, and none starts a second refresh.
    let fresh = await get('/swr');
    for (let i = 0; i < 50 && fresh.headers.get('x-edge-cache') !== 'HIT'; i++) {
      await fresh.arrayBuffer();
      await sleep(20);
      fresh = await get('/swr');
    }
    expect(fresh.headers.get('x-edge-cache')).toBe('HIT');
    expect(await fresh.text()).toBe('version 2');
    expect(hitsOf('/swr')).toBe(2);
  });

  it('serves STALE when the origin is down (stale-if-error) instead of an error', async () => {
    expect(await (await get('/sie')).text()).toBe('version 1');
    await sleep(1200);
    origin.closeAllConnections();
    await new Promise((resolve) => origin.close(resolve));
    const stale = await get('/sie');
    expect(stale.status).toBe(200);
    expect(stale.headers.get('x-edge-cache')).toBe('STALE');
    expect(await stale.text()).toBe('version 1');
    // Nothing stale to give for an uncached path: the JSON error, at once.
    const missing = await get('/never-seen');
    expect([502, 503]).toContain(missing.status);
    expect(await missing.json()).toMatchObject({ statusCode: missing.status });
  });
});
