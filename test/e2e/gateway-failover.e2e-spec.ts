import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { sleep } from '../../tools/stack/ports';
import { signUpAndLogIn } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import {
  FAST_HEALTH,
  startGateway,
  waitForStatus,
  type GatewayInstance,
  type GatewayStatus,
} from '../support/gateway-process';
import { HttpClient } from '../support/http-client';
import { Load, type Operation } from '../support/load';
import { sharedInfra } from '../support/shared-infra';

/**
 * The gateway in front of three real API instances while they die and restart: what a client sees
 * (counted, per method) and what the database holds afterwards (no duplicate writes).
 */
describe('gateway: hard kill, recovery and rolling restart under load (gateway + 3 API processes)', () => {
  const { env } = sharedInfra();
  // Drain delay above the gateway's interval × fall (200 ms × 2), as docs/gateway.md asks.
  const apiEnv = { SHUTDOWN_DRAIN_DELAY_MS: '600' };
  let apis: ApiInstance[];
  let gateway: GatewayInstance;
  let user: HttpClient;
  let articleId: string;

  beforeAll(async () => {
    apis = await Promise.all([1, 2, 3].map((i) => startApi(env, `api-${i}`, apiEnv)));
    gateway = await startGateway(
      { UPSTREAMS: apis.map((a) => a.url).join(','), ...FAST_HEALTH, GATEWAY_RETRY_TRIES: '3' },
      'gateway-failover',
    );
    user = new HttpClient(gateway.url);
    await signUpAndLogIn(user);
    articleId = (await user.post('/articles', { title: 'edited under load', body: 'v0' })).body.id;
  }, 90_000);
  afterAll(async () => {
    await gateway?.stop();
    await Promise.all((apis ?? []).map((a) => a.stop()));
  });

  const upstream = (s: GatewayStatus, api: ApiInstance) => s.upstreams.find((u) => u.url === api.url)!;
  const mixedLoad = (prefix: string, maxMs: number, withPatch: boolean) =>
    new Load({
      baseUrl: gateway.url,
      concurrency: 4,
      maxRequests: 5000,
      maxMs,
      pauseMs: 10,
      next: (i): Operation => {
        const headers = { cookie: user.cookieHeader };
        if (i % 5 === 1)
          return {
            op: 'create',
            method: 'POST',
            path: '/articles',
            headers,
            body: { title: `${prefix}-${i}`, body: 'load' },
            tag: `${prefix}-${i}`,
          };
        if (withPatch && i % 5 === 3)
          return { op: 'edit', method: 'PATCH', path: `/articles/${articleId}`, headers, body: { body: `v${i}` } };
        return { op: 'read', method: 'GET', path: i % 2 ? '/articles?limit=5' : `/articles/${articleId}` };
      },
    });
  const waitForCount = async (load: Load, n: number) => {
    while (load.count < n) await sleep(20);
  };

  /** Every title a POST created, with how often it is in the table: a retried POST would show up twice. */
  async function titlesIn(prefix: string): Promise<Map<string, number>> {
    const db = new Client({ connectionString: env.DB_PRIMARY });
    await db.connect();
    try {
      const { rows } = await db.query<{ title: string; n: number }>(
        'SELECT title, count(*)::int AS n FROM articles WHERE title LIKE $1 GROUP BY title',
        [`${prefix}-%`],
      );
      return new Map(rows.map((r) => [r.title, r.n]));
    } finally {
      await db.end();
    }
  }

  it('loses no GET when an instance is killed with SIGKILL, and fails only POSTs that were in flight on it', async () => {
    const prefix = `kill-${randomUUID()}`;
    const victim = apis[1]!;
    const load = mixedLoad(prefix, 30_000, false);
    await waitForCount(load, 150);
    await victim.process.kill();
    const killedAt = load.count;
    await waitForCount(load, killedAt + 250);
    const results = await load.stop();

    expect(results.filter((r) => r.method === 'GET').length).toBeGreaterThan(250);
    expect(load.failures((r) => r.method === 'GET')).toEqual([]);
    expect(results.slice(0, killedAt).some((r) => r.servedBy === victim.name)).toBe(true);
    expect(results.slice(killedAt + 20).some((r) => r.servedBy === victim.name)).toBe(false);

    // A failed POST is a 502 that the gateway logged as sent to the killed instance; at most one per client in flight.
    const failedPosts = load.failures((r) => r.method === 'POST');
    expect(failedPosts.length).toBeLessThanOrEqual(4);
    for (const failed of failedPosts) {
      expect(failed.status).toBe(502);
      const line = await gateway.waitForLog((l) => l.requestId === failed.requestId);
      expect(line).toMatchObject({ upstream: victim.url, phase: 'sent', method: 'POST' });
    }
    // No POST was applied twice; every acknowledged POST is there.
    const titles = await titlesIn(prefix);
    expect([...titles.values()].every((n) => n === 1)).toBe(true);
    for (const ok of results.filter((r) => r.method === 'POST' && r.status === 201))
      expect(titles.get(ok.tag!)).toBe(1);
    const s = await gateway.status();
    expect(upstream(s, victim).available).toBe(false);
    expect(upstream(s, victim).ejections).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('takes the killed instance back after exactly `rise` successful checks once it serves again', async () => {
    const victim = apis[1]!;
    await waitForStatus(gateway, (s) => upstream(s, victim).status === 'down');
    await victim.start();
    const ready = Date.now();
    const s = await waitForStatus(gateway, (st) => upstream(st, victim).available);
    // Counted, not timed: it joined on its 2nd consecutive success (a poll may land one check later).
    expect(upstream(s, victim).checks.consecutiveSuccesses).toBeGreaterThanOrEqual(2);
    expect(upstream(s, victim).checks.consecutiveSuccesses).toBeLessThanOrEqual(3);
    // rise × interval is 400 ms; the slack covers readiness's own dependency checks on a busy machine.
    expect(Date.now() - ready).toBeLessThan(400 + 3000);
    const served = new Set<string>();
    for (let i = 0; i < 9; i++) served.add((await user.get('/health/live')).headers.get('x-served-by')!);
    expect([...served].sort()).toEqual(['api-1', 'api-2', 'api-3']);
  }, 30_000);

  it('fails no request of any method while all three instances restart one at a time (SIGTERM, drain, start)', async () => {
    const prefix = `roll-${randomUUID()}`;
    const load = mixedLoad(prefix, 55_000, true);
    await waitForCount(load, 50);
    for (const api of apis) {
      await api.stop();
      await api.start();
      await waitForStatus(gateway, (s) => upstream(s, api).available, 20_000);
    }
    const results = await load.stop();

    const byMethod = (m: string) => results.filter((r) => r.method === m).length;
    expect(byMethod('GET')).toBeGreaterThan(100);
    expect(byMethod('POST')).toBeGreaterThan(20);
    expect(byMethod('PATCH')).toBeGreaterThan(20);
    expect(load.failures()).toEqual([]);
    const titles = await titlesIn(prefix);
    expect(titles.size).toBe(byMethod('POST'));
    expect([...titles.values()].every((n) => n === 1)).toBe(true);
    // Each instance was drained by readiness, not discovered dead by a failed request.
    const s = await gateway.status();
    for (const api of apis) expect(upstream(s, api).available).toBe(true);
    expect(await gateway.waitForLog((l) => l.msg === 'upstream down' && l.draining === true)).toBeTruthy();
  }, 60_000);
});
