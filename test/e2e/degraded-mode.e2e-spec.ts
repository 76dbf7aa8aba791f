import { sleep } from '../../tools/stack/ports';
import { respCommand } from '../../tools/stack/resp-command';
import { signUpAndLogIn } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import { eventually } from '../support/eventually';
import { FAST_HEALTH, startGateway, type GatewayInstance } from '../support/gateway-process';
import { HttpClient, type HttpResponse } from '../support/http-client';
import { startInfra, type TestInfra } from '../support/infra';
import { waitForReplicas } from '../support/replication';

/**
 * The simple topology (one primary, one replica, one Redis, no HA engine) through the gateway: a shared
 * dependency's outage degrades every instance alike and takes none out of rotation. Read-only mode without a
 * primary, cache bypass and a named 503 for sessions without Redis; readiness 503 only for the instance's own
 * trouble (a stalled event loop).
 */
describe('degraded, not down: read-only mode and a Redis outage through the gateway (simple topology)', () => {
  let infra: TestInfra;
  let apis: ApiInstance[];
  let gateway: GatewayInstance;
  let author: HttpClient;
  let anonymous: HttpClient;
  let articleId: string;
  const tuning = {
    HEALTH_CACHE_MS: '0',
    HEALTH_CHECK_TIMEOUT_MS: '300',
    HEALTH_MAX_EVENT_LOOP_DELAY_MS: '400',
    DB_MONITOR_INTERVAL_MS: '250',
    DB_CONNECT_TIMEOUT_MS: '500',
    RATE_LIMIT_ENABLED: 'false',
  };

  beforeAll(async () => {
    infra = await startInfra({ replicas: 1 });
    apis = await Promise.all([1, 2].map((i) => startApi(infra.env, `api-degraded-${i}`, tuning)));
    gateway = await startGateway({ UPSTREAMS: apis.map((a) => a.url).join(','), ...FAST_HEALTH }, 'gateway-degraded');
    author = new HttpClient(gateway.url);
    anonymous = new HttpClient(gateway.url);
    await signUpAndLogIn(author, 'Degraded Author');
    const created = await author.post('/articles', { title: 'still readable', body: 'in any outage' });
    expect(created.status).toBe(201);
    articleId = created.body.id;
    await waitForReplicas(infra.env);
  }, 90_000);
  afterAll(async () => {
    await gateway?.stop();
    await Promise.all((apis ?? []).map((a) => a.stop()));
    await infra?.stop();
  });

  const readiness = (api: ApiInstance) => new HttpClient(api.url).get('/health/ready');
  const allInRotation = async () => (await gateway.status()).upstreams.every((u) => u.available);
  /** Runs `request` every 50 ms for `ms`, and returns every response that is not `expected`. */
  const sample = async (ms: number, request: () => Promise<HttpResponse>, expected = 200) => {
    const unexpected: Array<{ status: number; body: unknown }> = [];
    let count = 0;
    for (const end = Date.now() + ms; Date.now() < end; count++) {
      const res = await request();
      if (res.status !== expected) unexpected.push({ status: res.status, body: res.body });
      await sleep(50);
    }
    return { count, unexpected };
  };

  it('without Redis: anonymous reads go on (cache bypass), signed-in requests get a 503 naming the session store, nothing hangs', async () => {
    await infra.redis.stop();
    try {
      for (const api of apis) {
        const ready = await readiness(api);
        expect(ready.status).toBe(200);
        expect(ready.body).toMatchObject({ status: 'degraded', details: { redis: { status: 'degraded' } } });
        expect(ready.body.details.redis.impact).toMatch(/signed-in requests get 503/);
      }
      const reads = await sample(1500, () => anonymous.get(`/articles/${articleId}`));
      expect(reads.count).toBeGreaterThan(5);
      expect(reads.unexpected).toEqual([]);
      const bypass = await anonymous.get(`/articles/${articleId}`);
      expect(bypass.headers.get('x-cache')).toBe('BYPASS');

      const started = Date.now();
      const me = await author.get('/auth/me');
      expect(Date.now() - started).toBeLessThan(1500);
      expect(me.status).toBe(503);
      expect(me.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: expect.stringContaining('session store is unavailable'),
      });
      expect(me.headers.get('retry-after')).toBe('1');
      // The session could not be checked, not found missing: the cookie is kept, not cleared.
      expect(me.headers.getSetCookie()).toEqual([]);
      expect(await allInRotation()).toBe(true);
    } finally {
      await infra.redis.start();
    }
    // The same cookie works again: the session was on disk (AOF) and Redis came back with it.
    const back = await eventually(
      () => author.get('/auth/me'),
      (r) => r.status === 200,
      10_000,
    );
    expect(back.body.name).toBe('Degraded Author');
  });

  it('reports its own stalled event loop as not ready (503), and recovers', async () => {
    const [stalled, other] = apis as [ApiInstance, ApiInstance];
    // SIGSTOP for 1 s is what a long synchronous task does to the loop: every timer fires a second late.
    stalled.process.freeze();
    await sleep(1000);
    stalled.process.thaw();
    const ready = await readiness(stalled);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ statusCode: 503, status: 'error', message: 'not ready: eventLoop' });
    expect(ready.body.details.eventLoop.maxDelayMs).toBeGreaterThan(400);
    expect((await readiness(other)).status).toBe(200);
    // The delay leaves the 5 s window, then the one before it.
    await eventually(
      () => readiness(stalled),
      (r) => r.status === 200,
      15_000,
      250,
    );
  });

  it('without a primary: read-only mode. Reads stay 200 through the gateway, writes get a fast 503 with Retry-After, no instance leaves rotation', async () => {
    await eventually(allInRotation, Boolean, 10_000);
    // kill -9: the old primary stays down; this test is the last to use the cluster, and afterAll stops the rest.
    await infra.cluster.primary.process.kill();
    await eventually(
      () => readiness(apis[0]!),
      (r) => r.body?.details?.primary?.status === 'degraded',
      5_000,
    );
    for (const api of apis) {
      const ready = await readiness(api);
      expect(ready.status).toBe(200);
      expect(ready.body.details.primary).toMatchObject({
        status: 'degraded',
        impact: expect.stringMatching(/^read-only/),
      });
    }
    const reads = await sample(2000, () => anonymous.get(`/articles/${articleId}`));
    const lists = await sample(500, () => anonymous.get('/articles?limit=5'));
    expect([...reads.unexpected, ...lists.unexpected]).toEqual([]);

    // A write committed, then the primary died before its WAL position could be read: the invalidation left the
    // marker that sends the next fills to the primary (what CI caught once, under the HA drill). During the
    // failover they read the most advanced replica instead, rather than answering 503 for the marker's lifetime.
    await respCommand(infra.redis.port, ['INCR', 'c:v:articles:list']);
    await respCommand(infra.redis.port, ['SET', 'c:m:articles:list', 'primary', 'PX', '30000']);
    const filled = await anonymous.get('/articles?limit=5');
    expect(filled.status).toBe(200);
    expect(filled.headers.get('x-cache')).toBe('MISS');
    expect(filled.body.items.map((a: { id: string }) => a.id)).toContain(articleId);
    const afterMarker = await sample(500, () => anonymous.get('/articles?limit=5'));
    expect(afterMarker.unexpected).toEqual([]);
    const signedIn = await author.get(`/articles/${articleId}`);
    expect(signedIn.status).toBe(200);

    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const write = await author.post('/articles', { title: `refused ${i}`, body: 'no primary' });
      expect(Date.now() - started).toBeLessThan(1000);
      expect(write.status).toBe(503);
      expect(write.headers.get('retry-after')).toBe('2');
      expect(write.body.message).toMatch(/the database is failing over/);
    }
    expect(await allInRotation()).toBe(true);

    // An operator (or, in the HA topology, Patroni) promotes the replica: writes resume, with no restart.
    await infra.cluster.replicas[0]!.promote();
    const resumed = await eventually(
      () => author.post('/articles', { title: 'after promotion', body: 'accepted' }),
      (r) => r.status === 201,
      15_000,
      200,
    );
    expect(resumed.status).toBe(201);
  });
});
