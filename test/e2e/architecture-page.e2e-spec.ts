import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { sleep } from '../../tools/stack/ports';
import { startApi, type ApiInstance } from '../support/api-process';
import {
  architectureNodes,
  changesText,
  metricValues,
  openArchitecturePage,
  snapshotSeq,
  waitForHealth,
} from '../support/architecture-page';
import { ARTIFACTS, launchBrowser } from '../support/browser';
import { eventually } from '../support/eventually';
import { FAST_HEALTH, startGateway, TEST_ADMIN_TOKEN, type GatewayInstance } from '../support/gateway-process';
import { startInfra, type TestInfra } from '../support/infra';
import { metricValue } from '../support/metrics';
import { openSse, type SseStream } from '../support/sse-client';
import { startWorker, type WorkerInstance } from '../support/worker-process';

/**
 * /_gateway/: the gateway draws the running system in a real browser (Debian Chromium), fed by its SSE
 * stream, while an API instance is killed and restarted. Every assertion reads DOM state attributes
 * (data-health, data-role) that the page sets from the stream.
 */
describe('architecture page: the live system in a browser (gateway, 3 APIs, a worker, primary + 2 replicas, Redis)', () => {
  const OBSERVE_INTERVAL_MS = 250;
  const MAX_STREAMS = 3;
  let infra: TestInfra;
  let apis: ApiInstance[];
  let worker: WorkerInstance;
  let gateway: GatewayInstance;
  let browser: Browser;
  let page: Page;
  const bearer = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

  beforeAll(async () => {
    // The browser first: if it cannot start, no servers have been started that afterAll could not stop.
    browser = await launchBrowser();
    infra = await startInfra({ replicas: 2 });
    [apis, worker] = await Promise.all([
      Promise.all([1, 2, 3].map((i) => startApi(infra.env, `api-${i}`))),
      startWorker(infra.env, 'worker-1'),
    ]);
    gateway = await startGateway(
      {
        UPSTREAMS: apis.map((a) => a.url).join(','),
        ...FAST_HEALTH,
        GATEWAY_OBSERVE_WORKERS: worker.url,
        GATEWAY_OBSERVE_INTERVAL_MS: String(OBSERVE_INTERVAL_MS),
        GATEWAY_OBSERVE_TIMEOUT_MS: '200',
        GATEWAY_OBSERVE_MAX_CLIENTS: String(MAX_STREAMS),
        // Far below a page's lifetime: these limits bound receiving a request, never a streamed answer.
        GATEWAY_HEADERS_TIMEOUT_MS: '300',
        GATEWAY_BODY_TIMEOUT_MS: '500',
      },
      'gateway-architecture',
    );
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await Promise.all([...(apis ?? []).map((a) => a.stop()), worker?.stop()]);
    await infra?.stop();
  });

  it('signs in with the admin token and draws every running node, green, with live numbers', async () => {
    page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    await openArchitecturePage(page, gateway.url, 'not-the-token-at-all');
    expect(await page.locator('#sign-in-error').innerText()).toBe('invalid admin token');
    problems.length = 0; // the refused sign-in's 401
    await openArchitecturePage(page, gateway.url, TEST_ADMIN_TOKEN);

    const expected = [
      'gateway',
      'api-1',
      'api-2',
      'api-3',
      'primary',
      'replica-1',
      'replica-2',
      'redis',
      'queue',
      'worker-1',
    ];
    await waitForHealth(page, expected, 'up', 10_000);
    const nodes = await architectureNodes(page);
    expect(nodes.map((n) => n.name).sort()).toEqual([...expected, 'clients'].sort());
    for (const n of nodes)
      expect(n.healthText).toBe(
        n.kind === 'clients' ? '' : `${{ up: '●', degraded: '▲', down: '✖', unknown: '?' }[n.health]} ${n.health}`,
      );
    expect(nodes.filter((n) => n.kind === 'database').map((n) => [n.name, n.role])).toEqual([
      ['primary', 'primary'],
      ['replica-1', 'replica'],
      ['replica-2', 'replica'],
    ]);

    // Client traffic through the gateway shows up as requests per second and cache hits on the instances.
    for (let i = 0; i < 60; i++) await fetch(`${gateway.url}/articles?limit=5`);
    const sum = (values: Array<number | null>) => values.reduce<number>((a, b) => a + (b ?? 0), 0);
    await eventually(
      () => metricValues(page, 'api', 'rps'),
      (rps) => sum(rps) > 1,
      5000,
    );
    await eventually(
      () => metricValues(page, 'api', 'cacheHitRatio'),
      (ratios) => ratios.some((r) => (r ?? 0) > 0),
      5000,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'architecture-page.png'), fullPage: true });

    // The browser holds a signed session cookie, never the token, and the token is in no log line.
    const [cookie] = await page.context().cookies(`${gateway.url}/_gateway/`);
    expect(cookie).toMatchObject({ name: 'gw_admin_session', httpOnly: true, sameSite: 'Strict', path: '/_gateway/' });
    expect(cookie!.value).not.toContain(TEST_ADMIN_TOKEN);
    expect(gateway.log()).not.toContain(TEST_ADMIN_TOKEN);
    expect(problems).toEqual([]);
  });

  it('turns a SIGKILLed instance red within interval × fall + 2 s, and green again after its restart', async () => {
    const budgetMs = Number(FAST_HEALTH.UPSTREAM_HEALTH_INTERVAL_MS) * Number(FAST_HEALTH.UPSTREAM_HEALTH_FALL) + 2000;
    const killed = Date.now();
    await apis[1]!.process.kill();
    await page.waitForSelector('[data-node="api-2"][data-health="down"]', { timeout: budgetMs });
    expect(Date.now() - killed).toBeLessThanOrEqual(budgetMs);
    expect(await page.locator('[data-node="api-2"] .node-health').innerText()).toBe('✖ down');
    expect(await page.locator('[data-node="gateway"]').getAttribute('data-health')).toBe('degraded');
    expect(await page.locator('[data-node="api-1"]').getAttribute('data-health')).toBe('up');
    await eventually(
      () => changesText(page),
      (text) => /api-2: \w+ → down/.test(text),
      2000,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'architecture-page-api-2-killed.png'), fullPage: true });

    await apis[1]!.start();
    await page.waitForSelector('[data-node="api-2"][data-health="up"]', { timeout: 10_000 });
    expect(await page.locator('[data-node="gateway"]').getAttribute('data-health')).toBe('up');
    await page.screenshot({ path: join(ARTIFACTS, 'architecture-page-api-2-back.png'), fullPage: true });
  });

  it('a frozen worker (SIGSTOP) reads as down after its timeout, and the page keeps updating meanwhile', async () => {
    worker.process.freeze();
    try {
      await page.waitForSelector('[data-node="worker-1"][data-health="down"]', { timeout: 3000 });
      expect(await page.locator('[data-node="worker-1"] .node-detail').innerText()).toBe('timeout');
      const seq = await snapshotSeq(page);
      await sleep(OBSERVE_INTERVAL_MS * 4);
      // One snapshot per interval, hung process or not (each read gives up after 200 ms).
      expect((await snapshotSeq(page)) - seq).toBeGreaterThanOrEqual(3);
    } finally {
      worker.process.thaw();
    }
    await page.waitForSelector('[data-node="worker-1"][data-health="up"]', { timeout: 5000 });
  });

  it('streams spec-compliant SSE to token holders only, caps streams, and scrapes only while someone watches', async () => {
    await page.close();
    const refused = await openSse(`${gateway.url}/_gateway/architecture/events`);
    expect(refused.status).toBe(401);

    const streams: SseStream[] = [];
    try {
      // The closed page's stream ends on the gateway a moment later: until then its slot is taken (503).
      const open = () => openSse(`${gateway.url}/_gateway/architecture/events`, bearer);
      for (let i = 0; i < MAX_STREAMS; i++) streams.push(await eventually(open, (s) => s.status === 200, 5000, 50));
      const [first] = streams;
      expect(streams.map((s) => s.status)).toEqual(Array(MAX_STREAMS).fill(200));
      expect(first!.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(first!.headers['cache-control']).toBe('no-store');
      // Once the last stream has had an event, every later snapshot was made with all of them open.
      await streams.at(-1)!.next('snapshot', 3000, 0);
      const event = await first!.next('snapshot', 3000, first!.events.length);
      expect(first!.retryMs()).toBe(2000);
      const snapshot = JSON.parse(event.data);
      expect(snapshot).toMatchObject({
        v: 1,
        intervalMs: OBSERVE_INTERVAL_MS,
        gateway: { name: 'gateway', streams: MAX_STREAMS },
      });
      expect(snapshot.apis.map((a: { name: string }) => a.name)).toEqual(['api-1', 'api-2', 'api-3']);
      expect(snapshot.workers.map((w: { name: string }) => w.name)).toEqual(['worker-1']);

      const over = await openSse(`${gateway.url}/_gateway/architecture/events`, bearer);
      expect(over.status).toBe(503);
      await over.closed;
      expect(JSON.parse(over.body())).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });

      // Long past GATEWAY_BODY_TIMEOUT_MS the stream still flows, one snapshot per interval, one scrape each.
      const seen = first!.events.length;
      expect(await scrapesOf(apis[0]!, 1250)).toBeGreaterThanOrEqual(2);
      expect(first!.events.length - seen).toBeGreaterThanOrEqual(4);
    } finally {
      for (const s of streams) s.close();
    }
    // With every stream gone the observer stops: no more scrapes of the instances.
    await sleep(OBSERVE_INTERVAL_MS * 2);
    expect(await scrapesOf(apis[0]!, OBSERVE_INTERVAL_MS * 4)).toBe(0);
    const again = await openSse(`${gateway.url}/_gateway/architecture/events`, bearer);
    again.close();
    expect(again.status).toBe(200);
  });

  it('SIGTERM with a stream open: the stream ends and the gateway exits 0 at once', async () => {
    const stream = await openSse(`${gateway.url}/_gateway/architecture/events`, bearer);
    await stream.next('snapshot', 3000, 0);
    const started = Date.now();
    await gateway.process.stop('SIGTERM', 10_000);
    await stream.closed;
    expect(gateway.process.exitStatus).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

/** How many times the gateway read the instance's /metrics during `ms` (our own two reads left out). */
async function scrapesOf(api: ApiInstance, ms: number): Promise<number> {
  const read = async () =>
    metricValue(await (await fetch(`${api.url}/metrics`)).text(), 'http_requests_total', {
      route: '/metrics',
      status_code: '200',
    });
  const before = await read();
  await sleep(ms);
  return (await read()) - before - 1;
}
