import { startApi, type ApiInstance } from '../support/api-process';
import { HttpClient } from '../support/http-client';
import { startInfra, type TestInfra } from '../support/infra';
import { sleep } from '../../tools/stack/ports';

describe('health: liveness, readiness and graceful drain (private PostgreSQL and Redis)', () => {
  let infra: TestInfra;
  let api: ApiInstance;

  beforeAll(async () => {
    infra = await startInfra({ replicas: 0 });
    api = await startApi(infra.env, 'api-health', {
      HEALTH_CACHE_MS: '0',
      HEALTH_CHECK_TIMEOUT_MS: '500',
      SHUTDOWN_DRAIN_DELAY_MS: '1500',
    });
  }, 90_000);
  afterAll(async () => {
    await api?.stop();
    await infra?.stop();
  });

  const get = (path: string) => new HttpClient(api.url).get(path);

  it('is ready when the primary and Redis are up', async () => {
    const res = await get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', details: { primary: { status: 'up' }, redis: { status: 'up' } } });
  });

  it('is ready but degraded while Redis is down (a shared dependency), stays live, and recovers', async () => {
    await infra.redis.stop();
    try {
      const started = Date.now();
      const res = await get('/health/ready');
      expect(Date.now() - started).toBeLessThan(1500);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'degraded', details: { primary: { status: 'up' } } });
      expect(res.body.details.redis).toMatchObject({ status: 'degraded', impact: expect.any(String) });
      expect((await get('/health/live')).status).toBe(200);
    } finally {
      await infra.redis.start();
    }
    const deadline = Date.now() + 10_000;
    let status = '';
    while (Date.now() < deadline && status !== 'ok') {
      status = (await get('/health/ready')).body.status;
      await sleep(200);
    }
    expect(status).toBe('ok');
  });

  it('answers within its timeout while the primary is frozen: degraded, read-only', async () => {
    infra.cluster.primary.process.freeze();
    try {
      const started = Date.now();
      const res = await get('/health/ready');
      expect(Date.now() - started).toBeLessThan(1500);
      expect(res.status).toBe(200);
      expect(res.body.details.primary).toMatchObject({
        status: 'degraded',
        impact: expect.stringMatching(/^read-only/),
      });
    } finally {
      infra.cluster.primary.process.thaw();
    }
  });

  it('counts requests in /metrics by route and status', async () => {
    const scrape = async () => (await get('/metrics')).text;
    const count = (text: string, route: string, status: string) => {
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('http_requests_total{') &&
            l.includes(`route="${route}"`) &&
            l.includes(`status_code="${status}"`),
        );
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const before = await scrape();
    for (let i = 0; i < 3; i++) await get('/articles?limit=1');
    await get('/articles/not-a-uuid');
    await get('/nope/nope');
    const after = await scrape();
    expect(count(after, '/articles', '200') - count(before, '/articles', '200')).toBe(3);
    expect(count(after, '/articles/:id', '400') - count(before, '/articles/:id', '400')).toBe(1);
    expect(count(after, 'unmatched', '404') - count(before, 'unmatched', '404')).toBe(1);
    expect(after).toMatch(/^# TYPE http_request_duration_seconds histogram$/m);
    expect(after).toMatch(/^process_cpu_user_seconds_total\{instance="api-health"\} /m);
    expect(after).toMatch(/^sessions_created_total\{instance="api-health"\} \d+$/m);
  });

  it('drains on SIGTERM: readiness 503 at once, in-flight requests finish, exit 0', async () => {
    const client = new HttpClient(api.url);
    api.process.signal('SIGTERM');
    await sleep(100);
    const ready = await client.get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ statusCode: 503, status: 'draining' });
    // Still serving during the drain delay, so the gateway's last requests succeed.
    const during = await client.get('/articles?limit=1');
    expect(during.status).toBe(200);
    expect(await api.process.waitForExit()).toBe(0);
  });
});
