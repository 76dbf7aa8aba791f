import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../../tools/stack/ports';
import { type RedisSentinelGroup, startRedisSentinelGroup } from '../../tools/stack/redis-sentinel';
import { respCommand } from '../../tools/stack/resp-command';
import { signUpAndLogIn, type TestUser } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import { eventually } from '../support/eventually';
import { FAST_HEALTH, startGateway, type GatewayInstance } from '../support/gateway-process';
import { HttpClient, type HttpResponse } from '../support/http-client';
import { startInfra, type TestInfra } from '../support/infra';
import { ClientLoop, failureSpans, summarize } from '../support/redis-failover-drill';
import { startWorker, type WorkerInstance } from '../support/worker-process';

// A request that neither answers nor fails within this counts as failed: "fail fast, never hang".
const REQUEST_DEADLINE_MS = 3000;
// The bound the brief sets for signed-in requests; the Sentinel drill measured ~2.5 s for ioredis alone.
const SIGNED_IN_MAX_UNAVAILABLE_MS = 10_000;

/**
 * The whole app on Redis under Sentinel (1 primary, 2 replicas, 3 Sentinels, real processes), behind the gateway
 * with 2 API instances and a worker: kill -9 of the Redis master under a mixed load. Anonymous reads must not
 * notice, signed-in requests come back with the same session, every accepted article gets rendered.
 */
describe('Redis failover under Sentinel: the app follows the new master', () => {
  let dir: string;
  let group: RedisSentinelGroup;
  let infra: TestInfra;
  let apis: ApiInstance[] = [];
  let worker: WorkerInstance | undefined;
  let gateway: GatewayInstance | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'z2m-redis-failover-'));
    [group, infra] = await Promise.all([
      // min-replicas-to-write 1: a master cut off from both replicas refuses writes instead of losing them later.
      startRedisSentinelGroup({ dir, minReplicasToWrite: 1 }),
      startInfra({ replicas: 0 }),
    ]);
    // REDIS_URL left out on purpose: a client that bypassed Sentinel would find nothing at the default address.
    const env = {
      ...Object.fromEntries(Object.entries(infra.env).filter(([k]) => k !== 'REDIS_URL')),
      REDIS_SENTINELS: group
        .sentinelAddresses()
        .map((a) => `${a.host}:${a.port}`)
        .join(','),
      REDIS_MASTER_NAME: group.masterName,
      HEALTH_CACHE_MS: '0',
      HEALTH_CHECK_TIMEOUT_MS: '300',
      OUTBOX_POLL_INTERVAL_MS: '100',
      JOB_BACKOFF_MS: '200',
    };
    [apis, worker] = await Promise.all([
      Promise.all([1, 2].map((i) => startApi(env, `api-rf-${i}`))),
      startWorker(env, 'worker-rf', { WORKER_CONCURRENCY: '4' }),
    ]);
    gateway = await startGateway({ UPSTREAMS: apis.map((a) => a.url).join(','), ...FAST_HEALTH }, 'gateway-rf');
  }, 90_000);
  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([...apis.map((a) => a.stop()), worker?.stop()]);
    await Promise.all([group?.stop(), infra?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const expectStatus = (res: HttpResponse, status: number, what: string): void => {
    if (res.status !== status) throw new Error(`${what}: ${res.status} ${res.text.slice(0, 120)}`);
  };

  it('kill -9 of the master: anonymous reads unharmed, sessions survive, every accepted job runs', async () => {
    const author = new HttpClient(gateway!.url);
    const reader = new HttpClient(gateway!.url);
    const anonymous = new HttpClient(gateway!.url);
    const [authorUser, readerUser] = await Promise.all([
      signUpAndLogIn(author, 'Failover Author'),
      signUpAndLogIn(reader, 'Failover Reader'),
    ]);
    const seed = await author.post('/articles', { title: 'read during a failover', body: 'still *here*' });
    expectStatus(seed, 201, 'seed article');
    const articleId = seed.body.id as string;
    await eventually(
      async () => (await anonymous.get(`/articles/${articleId}`)).body?.render?.status,
      (s) => s === 'done',
      20_000,
    );

    const created: string[] = [];
    const loops = {
      anonymous: new ClientLoop(
        'anonymous GET /articles/:id',
        async () => expectStatus(await anonymous.get(`/articles/${articleId}`), 200, 'read'),
        REQUEST_DEADLINE_MS,
      ),
      me: new ClientLoop(
        'signed-in GET /auth/me',
        async () => {
          const res = await reader.get('/auth/me');
          expectStatus(res, 200, 'me');
          if (res.body.id !== readerUser.id) throw new Error(`me answered ${String(res.body.id)}`);
        },
        REQUEST_DEADLINE_MS,
      ),
      write: new ClientLoop(
        'signed-in POST /articles',
        async (i) => {
          const res = await author.post('/articles', { title: `during failover ${i}`, body: `body ${i}` });
          expectStatus(res, 201, 'create');
          created.push(res.body.id as string);
        },
        REQUEST_DEADLINE_MS,
        50,
      ),
      ready: new ClientLoop(
        'GET /health/ready (each API)',
        async () => {
          for (const api of apis) expectStatus(await new HttpClient(api.url).get('/health/ready'), 200, api.name);
        },
        REQUEST_DEADLINE_MS,
        100,
      ),
    };
    await sleep(2000);

    // A sign-in just before the kill: its session was written with WAIT 1, so the new master must have it.
    const lateClient = new HttpClient(gateway!.url);
    const lateUser: TestUser = await signUpAndLogIn(lateClient, 'Signed In Last');
    const cookiesBefore = { reader: reader.cookieHeader, late: lateClient.cookieHeader };
    const killed = (await group.master())!;
    const createdBeforeKill = created.length;
    const killedAt = Date.now();
    await killed.kill();
    const newMaster = await group.waitForMaster(killed, 20_000);
    const electionMs = Date.now() - killedAt;
    await eventually(
      async () => loops.me.recoveredSince(killedAt, 10) && loops.write.recoveredSince(killedAt, 10),
      Boolean,
      25_000,
      100,
    );
    await sleep(1000);
    await Promise.all(Object.values(loops).map((l) => l.stop()));
    const reports = Object.values(loops).map((l) => l.report(killedAt));

    const lateMe = await lateClient.get('/auth/me');
    // Every connection names its owner and purpose (RedisConnections): CLIENT LIST on the new master says who is who.
    const clientList = String(await respCommand(newMaster.port, ['CLIENT', 'LIST'], 2000));
    const names = [...new Set([...clientList.matchAll(/ name=(\S+)/g)].map((m) => m[1]!))].sort();
    const renderStart = Date.now();
    const pending = await eventually(
      async () => {
        const states = await Promise.all(
          created.map(async (id) => (await author.get(`/articles/${id}`)).body?.render?.status as string),
        );
        return created.filter((_, i) => states[i] !== 'done');
      },
      (left) => left.length === 0,
      30_000,
      500,
    ).catch(() => ['(timed out)']);
    const renderDrainMs = Date.now() - renderStart;

    console.log(
      `Redis master ${killed.name} -> ${newMaster.name}: election ${electionMs} ms; ` +
        `articles accepted ${created.length} (${createdBeforeKill} before the kill), all rendered after ${renderDrainMs} ms`,
    );
    console.table(reports.map(({ firstErrors, ...r }) => ({ ...r, firstError: firstErrors[0]?.slice(0, 70) })));
    console.log('connection names on the new master:', names.join(' '));
    console.log(
      `killed at ${new Date(killedAt).toISOString().slice(11, 23)} UTC\n${group.failoverEvents().join('\n')}`,
    );
    console.log('request latency ms (anonymous reads)', summarize(loops.anonymous.ops.map((o) => o.end - o.start)));
    // Every distinct error and when the failures came, relative to the kill: a failed run in CI says what went wrong.
    for (const r of reports) if (r.failures) console.log(r.client, 'errors:', r.firstErrors);
    for (const [name, loop] of Object.entries(loops))
      console.log(name, 'failed ops (ms after the kill):', failureSpans(loop.ops, killedAt));

    const [anonymousReport, meReport, writeReport, readyReport] = reports as [
      (typeof reports)[0],
      (typeof reports)[0],
      (typeof reports)[0],
      (typeof reports)[0],
    ];
    expect(electionMs).toBeLessThan(10_000);
    expect({ anonymousFailures: anonymousReport.failures, errors: anonymousReport.firstErrors }).toEqual({
      anonymousFailures: 0,
      errors: [],
    });
    expect(anonymousReport.ops).toBeGreaterThan(20);
    for (const r of [meReport, writeReport]) {
      expect({ client: r.client, failuresBeforeKill: r.failuresBeforeDisruption }).toEqual({
        client: r.client,
        failuresBeforeKill: 0,
      });
      expect(r.unavailableMs).toBeLessThan(SIGNED_IN_MAX_UNAVAILABLE_MS);
      expect(r.longestGapMs).toBeLessThan(SIGNED_IN_MAX_UNAVAILABLE_MS + REQUEST_DEADLINE_MS);
    }
    expect({ readinessFailures: readyReport.failures, errors: readyReport.firstErrors }).toEqual({
      readinessFailures: 0,
      errors: [],
    });
    // Same cookies as before the kill, and they still sign the same users in: no session was lost.
    expect({ reader: reader.cookieHeader, late: lateClient.cookieHeader }).toEqual(cookiesBefore);
    expect(lateMe.status).toBe(200);
    expect(lateMe.body.id).toBe(lateUser.id);
    expect((await author.get('/auth/me')).body.id).toBe(authorUser.id);
    expect(pending).toEqual([]);
    for (const api of ['api-rf-1', 'api-rf-2']) {
      expect(names).toEqual(expect.arrayContaining([`${api}:sessions`, `${api}:cache`, `${api}:rate-limit`]));
    }
  }, 120_000);
});
