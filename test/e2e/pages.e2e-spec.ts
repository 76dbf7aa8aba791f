import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { freePort, sleep } from '../../tools/stack/ports';
import { signUpAndLogIn } from '../support/accounts';
import { metricValues, openArchitecturePage } from '../support/architecture-page';
import { ARTIFACTS, launchBrowser } from '../support/browser';
import { startApi, type ApiInstance } from '../support/api-process';
import { eventually } from '../support/eventually';
import {
  FAST_HEALTH,
  originRequests,
  startGateway,
  TEST_ADMIN_TOKEN,
  type GatewayInstance,
} from '../support/gateway-process';
import { HttpClient } from '../support/http-client';
import { startInfra, type TestInfra } from '../support/infra';
import { startWorker, type WorkerInstance } from '../support/worker-process';

// Long enough that a fresh page within a second can only be the purge's doing, short enough to watch expire.
const PAGE_CACHE_SECONDS = 3;
const PAGE_STALE_SECONDS = 30;
const PURGE_TOKEN = 'test-purge-token-0123456789';
const PAGE = { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8' };

/**
 * Reader pages through two gateways (two edge caches) in front of two API instances and a worker, on their own
 * PostgreSQL (primary + replica) and Redis: rendered, cached at the edge like a CDN, and purged from every gateway
 * the moment the article changes. Origin requests are counted with the APIs' own http_requests_total.
 */
describe('HTML pages behind the edge cache (2 gateways, 2 APIs, a worker)', () => {
  let infra: TestInfra;
  let apis: ApiInstance[] = [];
  let gateways: GatewayInstance[] = [];
  let worker: WorkerInstance | undefined;
  let workerEnv: Record<string, string>;
  let author: HttpClient;

  const page = (gateway: GatewayInstance, path: string, headers: Record<string, string> = {}) =>
    fetch(gateway.url + path, { headers: { ...PAGE, ...headers }, redirect: 'manual' });
  const origin = (route: string, status?: number) =>
    originRequests(
      apis.map((a) => a.url),
      route,
      status,
    );
  const write = async (title: string, body: string): Promise<string> => {
    const res = await author.post('/articles', { title, body });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  // The first test starts the worker itself, after it has seen a pending page; the others (run alone, too) need one.
  // Until the render job has completed, not only until the article says `done`: the job completes after its
  // commit's invalidation, purges included, while a reader can see `done` (the commit) a moment before that.
  const rendered = async (id: string) => {
    worker ??= await startWorker(workerEnv, 'worker-pages');
    const jobId = (await author.get(`/articles/${id}`)).body.render.jobId as string;
    return eventually(
      async () => (await author.get(`/jobs/${jobId}`)).body?.state,
      (state) => state === 'completed',
      20_000,
    );
  };

  beforeAll(async () => {
    infra = await startInfra({ replicas: 1 });
    const ports = [await freePort(), await freePort()];
    const env = {
      ...infra.env,
      PAGE_CACHE_SECONDS: String(PAGE_CACHE_SECONDS),
      PAGE_STALE_SECONDS: String(PAGE_STALE_SECONDS),
      EDGE_PURGE_URLS: ports.map((p) => `http://127.0.0.1:${p}`).join(','),
      EDGE_PURGE_TOKEN: PURGE_TOKEN,
      OUTBOX_POLL_INTERVAL_MS: '100',
    };
    workerEnv = env;
    apis = await Promise.all([1, 2].map((i) => startApi(env, `api-pages-${i}`)));
    gateways = await Promise.all(
      ports.map((port, i) =>
        startGateway(
          {
            UPSTREAMS: apis.map((a) => a.url).join(','),
            GATEWAY_PORT: String(port),
            GATEWAY_PURGE_TOKEN: PURGE_TOKEN,
            ...FAST_HEALTH,
          },
          `gateway-pages-${i + 1}`,
        ),
      ),
    );
    author = new HttpClient(gateways[0]!.url);
    await signUpAndLogIn(author, 'Page <Author>');
  }, 120_000);
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await Promise.all([...apis.map((a) => a.stop()), worker?.stop()]);
    await infra?.stop();
  }, 60_000);

  it('shows the pending state until the worker renders, then every gateway serves the body within a second', async () => {
    // No worker yet: the render job waits in the queue, so the page is pending for certain.
    const id = await write('Pending <first>', 'Now **rendered**.\n\n<script>alert(1)</script>');
    for (const gateway of gateways) {
      const miss = await page(gateway, `/a/${id}`);
      expect(miss.status).toBe(200);
      expect(miss.headers.get('x-edge-cache')).toBe('MISS');
      const html = await miss.text();
      expect(html).toContain('This article is being rendered');
      expect(html).toContain('<h1>Pending &lt;first&gt;</h1>');
      expect((await page(gateway, `/a/${id}`)).headers.get('x-edge-cache')).toBe('HIT');
    }

    expect(worker).toBeUndefined();
    await rendered(id);
    const renderedAt = Date.now();
    expect((await author.get(`/articles/${id}`)).body.render.status).toBe('done');
    for (const gateway of gateways) {
      const fresh = await page(gateway, `/a/${id}`);
      const html = await fresh.text();
      // The render's purge reached this gateway: its first request after the render is a miss, with the body.
      expect({ label: fresh.headers.get('x-edge-cache'), pending: html.includes('being rendered') }).toEqual({
        label: 'MISS',
        pending: false,
      });
      expect(html).toContain('<strong>rendered</strong>');
      expect(html).not.toContain('<script');
      expect(html).toContain('1 min read');
      expect(html).toContain('by Page &lt;Author&gt;');
      expect(html).toContain('<link rel="stylesheet" href="/static/demo.css">');
    }
    expect(Date.now() - renderedAt).toBeLessThan(1000);
  });

  it('serves the second anonymous request from the edge (HIT), reaching no API instance', async () => {
    const id = await write('Cached at the edge', 'Hello *edge*.');
    await rendered(id);
    const [gateway] = gateways as [GatewayInstance];
    const pagesBefore = (await gateway.status()).edgeCache!.pages as unknown as Record<string, number>;
    const first = await page(gateway, `/a/${id}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe(`public, max-age=0, s-maxage=${PAGE_CACHE_SECONDS}`);
    expect(first.headers.get('cdn-cache-control')).toBe(
      `public, s-maxage=${PAGE_CACHE_SECONDS}, stale-while-revalidate=${PAGE_STALE_SECONDS}, stale-if-error=${PAGE_STALE_SECONDS}`,
    );
    expect(first.headers.get('vary')).toBe('Cookie');
    expect(first.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]{27}"$/);
    const body = await first.text();
    const before = await origin('/a/:id');
    const hit = await page(gateway, `/a/${id}`);
    expect(hit.headers.get('x-edge-cache')).toBe('HIT');
    expect(await hit.text()).toBe(body);
    // A browser revalidating its copy gets a 304 from the edge, too.
    const notModified = await page(gateway, `/a/${id}`, { 'if-none-match': etag });
    expect(notModified.status).toBe(304);
    expect(await origin('/a/:id')).toBe(before);

    const front = await page(gateway, '/');
    expect(front.status).toBe(200);
    expect(await front.text()).toContain(`<a href="/a/${id}">Cached at the edge</a>`);
    expect((await page(gateway, '/')).headers.get('x-edge-cache')).toBe('HIT');
    // Counted apart as page loads (what the live page's "page hits" shows): 2 misses, then 3 hits.
    const pagesAfter = (await gateway.status()).edgeCache!.pages as unknown as Record<string, number>;
    expect({ hits: pagesAfter.hits! - pagesBefore.hits!, misses: pagesAfter.misses! - pagesBefore.misses! }).toEqual({
      hits: 3,
      misses: 2,
    });
  });

  it('purges a changed article from every gateway: the next anonymous GET has the new title within a second', async () => {
    const id = await write('Before the edit', 'Same body.');
    await rendered(id);
    for (const gateway of gateways) {
      await page(gateway, `/a/${id}`);
      await page(gateway, '/');
      expect((await page(gateway, `/a/${id}`)).headers.get('x-edge-cache')).toBe('HIT');
    }
    const patched = await author.patch(`/articles/${id}`, { title: 'After the edit' });
    expect(patched.status).toBe(200);
    const patchedAt = Date.now();
    for (const gateway of gateways) {
      for (const path of [`/a/${id}`, '/']) {
        const res = await page(gateway, path);
        expect({ path, label: res.headers.get('x-edge-cache') }).toEqual({ path, label: 'MISS' });
        const html = await res.text();
        expect(html).toContain('After the edit');
        expect(html).not.toContain('Before the edit');
      }
    }
    expect(Date.now() - patchedAt).toBeLessThan(1000);

    // Deleted: its page is gone from every edge at once, and answers the 404 page.
    expect((await author.delete(`/articles/${id}`)).status).toBe(204);
    for (const gateway of gateways) {
      const gone = await page(gateway, `/a/${id}`);
      expect(gone.status).toBe(404);
      expect(await gone.text()).toContain('Page not found');
    }
  });

  it('never serves a signed-in request from the shared cache, nor stores its answer there', async () => {
    const id = await write('Signed in or not', 'Body.');
    await rendered(id);
    const [gateway] = gateways as [GatewayInstance];
    const anonymous = await (await page(gateway, `/a/${id}`)).text();
    expect((await page(gateway, `/a/${id}`)).headers.get('x-edge-cache')).toBe('HIT');

    const signedIn = new HttpClient(gateway.url);
    await signUpAndLogIn(signedIn, 'Reader');
    const before = await origin('/a/:id');
    for (let i = 0; i < 2; i++) {
      const res = await signedIn.get(`/a/${id}`, { headers: PAGE });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-edge-cache')).not.toBe('HIT');
      expect(res.headers.get('cache-control')).toMatch(/^private/);
    }
    expect(await origin('/a/:id')).toBe(before + 2);
    // The anonymous copy is still the one anonymous readers get.
    const again = await page(gateway, `/a/${id}`);
    expect(again.headers.get('x-edge-cache')).toBe('HIT');
    expect(await again.text()).toBe(anonymous);

    // The author sees an edit at once, from any instance, without waiting for any cache (read-your-writes).
    expect((await author.patch(`/articles/${id}`, { title: 'Edited by its author' })).status).toBe(200);
    expect((await author.get(`/a/${id}`, { headers: PAGE })).text).toContain('Edited by its author');
  });

  it('revalidates an expired page with If-None-Match and serves it stale meanwhile', async () => {
    const id = await write('Revalidated', 'Body.');
    await rendered(id);
    const [, gateway] = gateways as [GatewayInstance, GatewayInstance];
    const first = await page(gateway, `/a/${id}`);
    expect(first.headers.get('x-edge-cache')).toBe('MISS');
    const body = await first.text();
    await sleep(PAGE_CACHE_SECONDS * 1000 + 200);
    const notModifiedBefore = await origin('/a/:id', 304);
    const stale = await page(gateway, `/a/${id}`);
    expect(stale.headers.get('x-edge-cache')).toBe('STALE');
    expect(await stale.text()).toBe(body);
    // The background revalidation got a 304 (same ETag): the entry is fresh again, without a new body.
    await eventually(
      async () => (await page(gateway, `/a/${id}`)).headers.get('x-edge-cache'),
      (label) => label === 'HIT',
      5000,
      100,
    );
    expect(await origin('/a/:id', 304)).toBe(notModifiedBefore + 1);
  });

  it('answers malformed ids and unknown pages with the 404 page, never a 500', async () => {
    const [gateway] = gateways as [GatewayInstance];
    for (const path of ['/a/not-a-uuid', `/a/${randomUUID()}`, '/a/%00', '/a/..%2f..%2fetc', '/no-such-page']) {
      const res = await page(gateway, path);
      expect({ path, status: res.status, type: res.headers.get('content-type') }).toEqual({
        path,
        status: 404,
        type: 'text/html; charset=utf-8',
      });
      expect(await res.text()).toContain('<h1>Page not found</h1>');
    }
    // One URL per article: upper case or percent-encoding redirects to the canonical (purgeable) address.
    const id = randomUUID();
    const encoded = `%${id.charCodeAt(0).toString(16)}${id.slice(1)}`;
    for (const variant of [id.toUpperCase(), encoded]) {
      const res = await page(gateway, `/a/${variant}`);
      expect({ variant, status: res.status, location: res.headers.get('location') }).toEqual({
        variant,
        status: 301,
        location: `/a/${id}`,
      });
    }
    // Sent once: no "reply already sent" in any instance's log.
    for (const api of apis) expect(api.log()).not.toMatch(/already sent|ERR_HTTP_HEADERS_SENT/i);
    // A bad page link is a 400 page; an API client asking for JSON still gets the JSON error shape.
    expect((await page(gateway, '/?cursor=not-a-cursor')).status).toBe(400);
    const json = await fetch(`${gateway.url}/no-such-page`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(404);
    expect(await json.json()).toMatchObject({ statusCode: 404 });
  });

  it('renders in a real browser with its stylesheet and no CSP violation, and the live page shows page hits', async () => {
    const id = await write('Read in a browser', '# A heading\n\nReplicas serve **reads**; the edge serves *pages*.');
    await rendered(id);
    const [gateway] = gateways as [GatewayInstance];
    const browser = await launchBrowser();
    try {
      const tab = await browser.newPage({ viewport: { width: 1100, height: 700 } });
      const problems: string[] = [];
      tab.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      tab.on('pageerror', (e) => problems.push(e.message));
      for (const path of [`/a/${id}`, '/']) {
        const res = await tab.goto(gateway.url + path);
        expect(res?.status()).toBe(200);
      }
      await tab.click(`a[href="/a/${id}"]`);
      await tab.waitForURL(`${gateway.url}/a/${id}`);
      expect(await tab.textContent('article h1')).toBe('Read in a browser');
      expect(await tab.textContent('article .body strong')).toBe('reads');
      // demo.css applied (46rem column): the stylesheet came through the gateway and the CSP let it in.
      expect(await tab.evaluate('getComputedStyle(document.body).maxWidth')).toBe('736px');
      await tab.goto(gateway.url + '/');
      await tab.screenshot({ path: join(ARTIFACTS, 'front-page.png') });
      expect(problems).toEqual([]);

      // The architecture page's gateway box counts page loads apart from the rest.
      const live = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await openArchitecturePage(live, gateway.url, TEST_ADMIN_TOKEN);
      for (let i = 0; i < 20; i++) await page(gateway, '/').then((r) => r.arrayBuffer());
      await eventually(
        () => metricValues(live, 'gateway', 'edgePageHitRatio'),
        (ratios) => (ratios[0] ?? 0) > 0.5,
        8000,
      );
    } finally {
      await browser.close();
    }
  });
});
