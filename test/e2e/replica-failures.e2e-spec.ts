import { Client } from 'pg';
import { signUpAndLogIn } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import { HttpClient } from '../support/http-client';
import { startInfra, type TestInfra } from '../support/infra';
import { metricValue } from '../support/metrics';
import { byNode, readLoop, until } from '../support/read-loop';
import { waitForReplicas } from '../support/replication';

const QUERY_TIMEOUT_MS = 1000;
// Short intervals and timeouts so each drill takes seconds; the behaviour is the same at production values.
const FAST = {
  // Routing drills read the database on every request: no cache-aside in front.
  CACHE_ENABLED: 'false',
  DB_MONITOR_INTERVAL_MS: '250',
  DB_CONNECT_TIMEOUT_MS: '500',
  DB_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
  HEALTH_CACHE_MS: '0',
  HEALTH_CHECK_TIMEOUT_MS: '500',
  SHUTDOWN_DRAIN_DELAY_MS: '0',
};

describe('reads survive dead, frozen and lagging replicas (private primary + 2 replicas)', () => {
  let infra: TestInfra;
  let api: ApiInstance;
  let author: HttpClient;
  let articleId: string;
  const replica = (n: 1 | 2) => infra.cluster.replicas[n - 1]!;
  const ready = async (on: ApiInstance = api) => (await new HttpClient(on.url).get('/health/ready')).body;
  const nodeState = async (name: string, on?: ApiInstance) =>
    (await ready(on)).details?.[`db:${name}`]?.state as string | undefined;

  beforeAll(async () => {
    infra = await startInfra({ replicas: 2 });
    api = await startApi(infra.env, 'api-replicas', FAST);
    author = new HttpClient(api.url);
    await signUpAndLogIn(author, 'Replica Author');
    const created = await author.post('/articles', { title: 'read me', body: 'from any replica' });
    expect(created.status).toBe(201);
    articleId = created.body.id;
  }, 90_000);
  afterAll(async () => {
    await api?.stop();
    await infra?.stop();
  });

  it('starts while the primary is unreachable: read-only mode (reads work, writes 503 with Retry-After, readiness 200 degraded), then it recovers', async () => {
    await waitForReplicas(infra.env);
    await infra.cluster.primary.stop();
    const early = await startApi(infra.env, 'api-no-primary', FAST).catch(async (err: unknown) => {
      await infra.cluster.primary.start();
      throw err;
    });
    try {
      try {
        // A shared dependency's outage degrades this instance; it never takes it (and every other) out of rotation.
        const ready = await new HttpClient(early.url).get('/health/ready');
        expect(ready.status).toBe(200);
        expect(ready.body).toMatchObject({
          status: 'degraded',
          details: { primary: { status: 'degraded', impact: expect.stringMatching(/^read-only/) } },
        });
        expect((await new HttpClient(early.url).get(`/articles/${articleId}`)).status).toBe(200);
        const started = Date.now();
        const write = await new HttpClient(early.url).post('/auth/signup', {
          email: `x-${Date.now()}@example.com`,
          password: 'correct horse battery',
          name: 'X',
        });
        expect(Date.now() - started).toBeLessThan(1000);
        expect(write.body).toEqual({
          statusCode: 503,
          error: 'Service Unavailable',
          message: expect.stringContaining('the database is failing over'),
        });
        expect(write.headers.get('retry-after')).toBe('2');
      } finally {
        await infra.cluster.primary.start();
      }
      await until(
        'readiness once the primary is back',
        async () => (await new HttpClient(early.url).get('/health/ready')).status === 200,
      );
      await signUpAndLogIn(new HttpClient(early.url), 'After Outage');
    } finally {
      await early.stop();
    }
  });

  it('starts with a replica down, reports it degraded, serves reads from the others, and takes it back', async () => {
    await waitForReplicas(infra.env);
    await replica(2).stop();
    const late = await startApi(infra.env, 'api-started-late', FAST);
    try {
      const body = await ready(late);
      expect(body.status).toBe('degraded');
      expect(body.details['db:replica-2']).toMatchObject({ status: 'degraded', state: 'down', role: 'unknown' });
      expect(body.details['db:replica-1']).toMatchObject({ status: 'up', state: 'healthy', role: 'replica' });
      expect(body.details.primary).toMatchObject({ status: 'up', node: 'primary' });

      const down = await readLoop(late.url, `/articles/${articleId}`, { total: 30, concurrency: 2 });
      expect(down.filter((r) => r.status !== 200)).toEqual([]);
      expect(byNode(down)['replica-2']).toBeUndefined();

      await replica(2).start();
      await until('reads on replica-2', async () => {
        const res = await new HttpClient(late.url).get(`/articles/${articleId}`);
        return res.headers.get('x-db-node') === 'replica-2';
      });
      expect(await nodeState('replica-2', late)).toBe('healthy');
    } finally {
      await late.stop();
      if (replica(2).process.state !== 'running') await replica(2).start();
    }
  });

  it('loses no read when a replica is killed under a read loop', async () => {
    await until(
      'both replicas healthy',
      async () => (await nodeState('replica-1')) === 'healthy' && (await nodeState('replica-2')) === 'healthy',
    );
    await waitForReplicas(infra.env);
    let killedAfter = 0;
    try {
      const results = await readLoop(api.url, `/articles/${articleId}`, {
        total: 300,
        during: async (done) => {
          await until('60 reads', async () => done() >= 60);
          killedAfter = done();
          await replica(1).process.kill();
        },
      });
      expect(results.filter((r) => r.status !== 200)).toEqual([]);
      expect(byNode(results.slice(0, killedAfter))['replica-1']).toBeGreaterThan(0);
      expect(byNode(results.slice(-100))['replica-1']).toBeUndefined();
    } finally {
      if (replica(1).process.state !== 'running') await replica(1).start();
    }
    await until('replica-1 healthy again', async () => (await nodeState('replica-1')) === 'healthy');
  });

  it('loses no read when a replica freezes, and no read waits longer than the timeout plus one retry', async () => {
    await waitForReplicas(infra.env);
    const retriesBefore = metricValue((await new HttpClient(api.url).get('/metrics')).text, 'db_read_retries_total', {
      node: 'replica-2',
    });
    let frozenAfter = 0;
    const readinessTimes: number[] = [];
    let reported: { status: number; state: string } | undefined;
    try {
      const results = await readLoop(api.url, `/articles/${articleId}`, {
        total: 200,
        during: async (done) => {
          await until('40 reads', async () => done() >= 40);
          frozenAfter = done();
          replica(2).process.freeze();
          // Readiness reads the monitor's state, never the frozen node: every answer is quick, and the freeze shows.
          reported = await until('readiness to report the freeze', async () => {
            const started = Date.now();
            const res = await new HttpClient(api.url).get('/health/ready');
            readinessTimes.push(Date.now() - started);
            const state = res.body.details['db:replica-2'].state as string;
            return state !== 'healthy' && { status: res.status, state };
          });
        },
      });
      expect(results.filter((r) => r.status !== 200)).toEqual([]);
      expect(byNode(results.slice(0, frozenAfter))['replica-2']).toBeGreaterThan(0);
      // One wait for the frozen node (connect or query timeout), then the retry on a healthy node.
      expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(2 * QUERY_TIMEOUT_MS);
      const retriesAfter = metricValue((await new HttpClient(api.url).get('/metrics')).text, 'db_read_retries_total', {
        node: 'replica-2',
      });
      expect(retriesAfter - retriesBefore).toBeGreaterThan(0);
      expect(reported!.status).toBe(200);
      expect(['down', 'suspect', 'not responding']).toContain(reported!.state);
      expect(Math.max(...readinessTimes)).toBeLessThan(1500);
    } finally {
      replica(2).process.thaw();
    }
    await until('replica-2 healthy again', async () => (await nodeState('replica-2')) === 'healthy');
  });

  describe('with replay paused on replica-1', () => {
    let strict: ApiInstance;
    let replica1: Client;

    beforeAll(async () => {
      strict = await startApi(infra.env, 'api-lag-1s', { ...FAST, DB_REPLICA_MAX_LAG_MS: '1000' });
      replica1 = new Client({ connectionString: replica(1).url() });
      await replica1.connect();
      // Before the drill this instance does read from replica-1, so "it stopped" below means something.
      await until(
        'replica-1 healthy on the 1 s instance',
        async () => (await nodeState('replica-1', strict)) === 'healthy',
      );
      expect(byNode(await readLoop(strict.url, `/articles/${articleId}`, { total: 20 }))['replica-1']).toBeGreaterThan(
        0,
      );
    });
    afterAll(async () => {
      await replica1?.query('SELECT pg_wal_replay_resume()').catch(() => undefined);
      await replica1?.end();
      await strict?.stop();
    });

    it('a session always reads its own writes, though anonymous reads of the lagging replica are stale', async () => {
      // A 30 s lag limit keeps the paused replica in rotation for the whole drill: only read-your-writes protects the session.
      const lenient = await startApi(infra.env, 'api-lag-30s', { ...FAST, DB_REPLICA_MAX_LAG_MS: '30000' });
      try {
        const anonymous = new HttpClient(lenient.url);
        await waitForReplicas(infra.env);
        await replica1.query('SELECT pg_wal_replay_pause()');
        let sessionStale = 0;
        let anonymousStale = 0;
        // 4 sessions x 50 trials, side by side: 200 write-then-read trials.
        await Promise.all(
          [1, 2, 3, 4].map(async (writerNo) => {
            const session = new HttpClient(lenient.url);
            await signUpAndLogIn(session, `Writer ${writerNo}`);
            const { body: article } = await session.post('/articles', { title: 'trial -1', body: 'b' });
            for (let i = 0; i < 50; i++) {
              expect((await session.patch(`/articles/${article.id}`, { title: `trial ${i}` })).status).toBe(200);
              if ((await session.get(`/articles/${article.id}`)).body.title !== `trial ${i}`) sessionStale++;
              if (i % 2 === 0 && (await anonymous.get(`/articles/${article.id}`)).body.title !== `trial ${i}`)
                anonymousStale++;
            }
          }),
        );
        expect(sessionStale).toBe(0);
        // Proof that the lagging replica was in rotation: readers without a session did see old titles.
        expect(anonymousStale).toBeGreaterThan(0);
        expect(await nodeState('replica-1', lenient)).toBe('healthy');
      } finally {
        await lenient.stop();
      }
    });

    it('anonymous reads leave the lagging replica once it is past the lag limit', async () => {
      const status = await replica1.query<{ paused: boolean }>('SELECT pg_is_wal_replay_paused() AS paused');
      expect(status.rows[0]!.paused).toBe(true);
      // Something to lag behind on: a write replica-1 cannot replay.
      expect((await author.patch(`/articles/${articleId}`, { title: 'lagging' })).status).toBe(200);
      await until(
        'replica-1 lagging on the 1 s instance',
        async () => (await nodeState('replica-1', strict)) === 'lagging',
      );
      const lag = (await ready(strict)).details['db:replica-1'];
      expect(lag.lagSeconds).toBeGreaterThan(1);
      expect(lag.replayPaused).toBe(true);
      const results = await readLoop(strict.url, `/articles/${articleId}`, { total: 100 });
      expect(results.filter((r) => r.status !== 200)).toEqual([]);
      expect(byNode(results)['replica-1']).toBeUndefined();
      expect(byNode(results)['replica-2']).toBeGreaterThan(0);

      await replica1.query('SELECT pg_wal_replay_resume()');
      await until('replica-1 back in rotation', async () => (await nodeState('replica-1', strict)) === 'healthy');
    });
  });
});
