import { randomUUID } from 'node:crypto';
import { sleep } from '../../tools/stack/ports';
import { signUpAndLogIn } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import { FAST_HEALTH, originRequests, startGateway, type GatewayInstance } from '../support/gateway-process';
import { errorShape, HttpClient } from '../support/http-client';
import { sharedInfra } from '../support/shared-infra';

const TTL_SECONDS = 4;

/**
 * The edge cache in front of the real API: its /static assets (public, max-age, ETag) are cached, its
 * JSON and anything carrying a session cookie never are. Origin requests are counted with the API's
 * own http_requests_total, summed over the three instances.
 */
describe('gateway edge cache in front of the API (gateway + 3 API processes)', () => {
  const { env } = sharedInfra();
  let apis: ApiInstance[];
  let gateway: GatewayInstance;
  const origin = (route = '/static/*', status?: number) =>
    originRequests(
      apis.map((a) => a.url),
      route,
      status,
    );
  const get = (path: string, headers: Record<string, string> = {}) => fetch(gateway.url + path, { headers });
  const unique = (path: string) => `${path}?v=${randomUUID()}`;

  beforeAll(async () => {
    apis = await Promise.all(
      [1, 2, 3].map((i) => startApi(env, `api-${i}`, { STATIC_MAX_AGE_SECONDS: String(TTL_SECONDS) })),
    );
    gateway = await startGateway({ UPSTREAMS: apis.map((a) => a.url).join(','), ...FAST_HEALTH }, 'gateway-cache');
  }, 90_000);
  afterAll(async () => {
    await gateway?.stop();
    await Promise.all((apis ?? []).map((a) => a.stop()));
  });

  it('serves a static asset from the edge after one origin fetch, with Age and X-Edge-Cache', async () => {
    const path = unique('/static/demo.css');
    const before = await origin();
    const miss = await get(path);
    expect(miss.status).toBe(200);
    expect(miss.headers.get('x-edge-cache')).toBe('MISS');
    expect(miss.headers.get('cache-control')).toBe(`public, max-age=${TTL_SECONDS}`);
    const etag = miss.headers.get('etag')!;
    expect(etag).toBeTruthy();
    const body = await miss.text();
    expect(body).toContain('--accent');

    const hit = await get(path);
    expect(hit.headers.get('x-edge-cache')).toBe('HIT');
    expect(Number(hit.headers.get('age'))).toBeGreaterThanOrEqual(0);
    expect(hit.headers.get('etag')).toBe(etag);
    expect(hit.headers.get('content-type')).toMatch(/^text\/css/);
    expect(hit.headers.get('x-request-id')).not.toBe(miss.headers.get('x-request-id'));
    expect(await hit.text()).toBe(body);
    // A browser revalidating its copy gets 304 from the edge; a HEAD gets the headers only.
    const notModified = await get(path, { 'if-none-match': etag });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('x-edge-cache')).toBe('HIT');
    const head = await fetch(gateway.url + path, { method: 'HEAD' });
    expect(head.headers.get('x-edge-cache')).toBe('HIT');
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    expect(await origin()).toBe(before + 1);

    // A HEAD miss fills the cache too (fetched with GET): the next GET is a hit.
    const headFirst = unique('/static/logo.svg');
    const headMiss = await fetch(gateway.url + headFirst, { method: 'HEAD' });
    expect(headMiss.headers.get('x-edge-cache')).toBe('MISS');
    expect(await headMiss.text()).toBe('');
    expect((await get(headFirst)).headers.get('x-edge-cache')).toBe('HIT');
  });

  it('honours the TTL: after max-age the entry is revalidated with If-None-Match (304 from origin)', async () => {
    const path = unique('/static/logo.svg');
    expect((await get(path)).headers.get('x-edge-cache')).toBe('MISS');
    expect((await get(path)).headers.get('x-edge-cache')).toBe('HIT');
    const [before, before304] = [await origin(), await origin('/static/*', 304)];
    await sleep(TTL_SECONDS * 1000 + 300);
    const revalidated = await get(path);
    expect(revalidated.status).toBe(200);
    expect(revalidated.headers.get('x-edge-cache')).toBe('REVALIDATED');
    expect(await revalidated.text()).toContain('<svg');
    expect(Number(revalidated.headers.get('age'))).toBeLessThan(TTL_SECONDS);
    expect((await get(path)).headers.get('x-edge-cache')).toBe('HIT');
    // One origin request, and the origin answered it 304: the edge kept its body.
    expect(await origin()).toBe(before + 1);
    expect(await origin('/static/*', 304)).toBe(before304 + 1);
  });

  it('coalesces concurrent misses into exactly one origin request', async () => {
    const path = unique('/static/demo.css');
    const before = await origin();
    const responses = await Promise.all(Array.from({ length: 20 }, () => get(path)));
    const labels = responses.map((r) => r.headers.get('x-edge-cache'));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(labels.filter((l) => l === 'MISS')).toHaveLength(1);
    expect(labels.filter((l) => l === 'HIT')).toHaveLength(19);
    expect(new Set(await Promise.all(responses.map((r) => r.text()))).size).toBe(1);
    expect(await origin()).toBe(before + 1);
  });

  it('purges by path through the admin API', async () => {
    const path = unique('/static/demo.css');
    await get(path);
    expect((await get(path)).headers.get('x-edge-cache')).toBe('HIT');
    const purged = await gateway.admin('cache/purge', { path: '/static/demo.css' });
    expect(purged.status).toBe(200);
    expect(purged.body.purged).toBeGreaterThanOrEqual(1);
    const before = await origin();
    expect((await get(path)).headers.get('x-edge-cache')).toBe('MISS');
    expect(await origin()).toBe(before + 1);

    await get(unique('/static/logo.svg'));
    expect((await gateway.admin('cache/purge', { path: '/static/*' })).body.purged).toBeGreaterThanOrEqual(2);
    expect(await gateway.admin('cache/purge', { path: 'static' })).toEqual({ status: 400, body: errorShape(400) });
    expect((await gateway.admin('cache/purge', { path: '/x' }, null)).status).toBe(401);
  });

  it("never stores a response that sets a cookie: a signed-in user's asset fetch is not served to anyone else", async () => {
    const user = new HttpClient(gateway.url);
    await signUpAndLogIn(user);
    const path = unique('/static/logo.svg');
    const signedIn = await user.get(path);
    expect(signedIn.headers.get('x-edge-cache')).toBe('MISS');
    expect(signedIn.headers.get('set-cookie')).toMatch(/^sid=/);
    // The API itself marks it private (src/infra/http/cache-headers.ts); the edge refuses Set-Cookie regardless.
    expect(signedIn.headers.get('cache-control')).toBe('private, no-store');

    const anonymous = await get(path);
    expect(anonymous.headers.get('x-edge-cache')).toBe('MISS');
    expect(anonymous.headers.get('set-cookie')).toBeNull();
    const again = await get(path);
    expect(again.headers.get('x-edge-cache')).toBe('HIT');
    expect(again.headers.get('set-cookie')).toBeNull();
    // The signed-in user's next fetch may use the anonymous, public copy: the origin said `public`.
    expect((await user.get(path)).headers.get('x-edge-cache')).toBe('HIT');
  });

  it('never caches the JSON API (no-store by default) and caches the Swagger UI assets', async () => {
    const before = await origin('/articles');
    for (let i = 0; i < 2; i++) {
      const res = await get('/articles?limit=1');
      expect(res.headers.get('x-edge-cache')).toBe('MISS');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    expect(await origin('/articles')).toBe(before + 2);

    expect((await get('/docs/swagger-ui.css')).headers.get('cache-control')).toBe(`public, max-age=${TTL_SECONDS}`);
    expect((await get('/docs/swagger-ui.css')).headers.get('x-edge-cache')).toBe('HIT');
    expect((await get('/docs')).headers.get('cache-control')).toBe('no-store');
  });

  it('reports its numbers in /_gateway/status', async () => {
    const { edgeCache } = await gateway.status();
    expect(edgeCache!.hits).toBeGreaterThanOrEqual(25);
    expect(edgeCache!.revalidated).toBe(1);
    expect(edgeCache!.stores).toBeGreaterThanOrEqual(5);
    expect(edgeCache!.purged).toBeGreaterThanOrEqual(2);
    expect(edgeCache!.bytes).toBeGreaterThan(0);
  });
});
