import { Redis } from 'ioredis';
import { VersionedCacheStore } from '../../src/infra/cache/versioned-cache-store';
import { CircuitBreaker } from '../../src/infra/redis/circuit-breaker';
import { sleep } from '../../tools/stack/ports';
import { signUpAndLogIn } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import { HttpClient } from '../support/http-client';
import { startInfra, type TestInfra } from '../support/infra';
import { metricValue } from '../support/metrics';
import { waitForReplicas } from '../support/replication';

/** Cache-aside in Redis across two real API instances (private PostgreSQL primary + replica and Redis). */
describe('cache-aside: hits, invalidation, stampedes, TTLs, Redis outages, lagging replicas', () => {
  let infra: TestInfra;
  let a: ApiInstance;
  let b: ApiInstance;
  let author: HttpClient;
  // The limiter shares Redis; off here so an outage drill measures the cache alone.
  const tuning = {
    CACHE_TTL_JITTER: '0',
    RATE_LIMIT_ENABLED: 'false',
    OUTBOX_RELAY_ENABLED: 'false',
    HEALTH_CACHE_MS: '0',
    // These tests prove coalescing and bypass, not latency: on 2 shared cores (a suite's APIs, PostgreSQL, Redis
    // and the runner), the 100 ms default deadline and 1 s lease wait would measure the scheduler.
    CACHE_TIMEOUT_MS: '250',
    CACHE_LEASE_WAIT_MS: '3000',
  };

  beforeAll(async () => {
    infra = await startInfra({ replicas: 1 });
    [a, b] = await Promise.all([
      startApi(infra.env, 'api-cache-a', tuning),
      startApi(infra.env, 'api-cache-b', tuning),
    ]);
    author = new HttpClient(a.url);
    await signUpAndLogIn(author, 'Cache Author');
  }, 90_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await infra?.stop();
  });

  const read = (api: ApiInstance, path: string) => new HttpClient(api.url).get(path);
  const create = async (title: string) => {
    const res = await author.post('/articles', { title, body: 'cached body' });
    expect(res.status).toBe(201);
    await waitForReplicas(infra.env);
    return res.body.id as string;
  };
  const loads = async () => {
    const [ma, mb] = await Promise.all([read(a, '/metrics'), read(b, '/metrics')]);
    return metricValue(ma.text, 'cache_loads_total') + metricValue(mb.text, 'cache_loads_total');
  };

  it('misses once, then hits on every instance; a write shows at once everywhere; a delete is a 404 at once', async () => {
    const id = await create('first title');
    const path = `/articles/${id}`;
    const first = await read(a, path);
    expect(first.headers.get('x-cache')).toBe('MISS');
    for (const api of [a, b]) {
      const hit = await read(api, path);
      expect(hit.headers.get('x-cache')).toBe('HIT');
      expect(hit.headers.get('x-db-node')).toBeNull();
      expect(hit.text).toBe(first.text);
    }

    expect((await author.patch(path, { title: 'second title' })).status).toBe(200);
    for (const api of [b, a, b]) expect((await read(api, path)).body.title).toBe('second title');

    expect((await author.delete(path)).status).toBe(204);
    for (const api of [a, b]) {
      const gone = await read(api, path);
      expect(gone.status).toBe(404);
      expect(gone.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'article not found' });
    }
    // The 404 itself is cached briefly (negative caching), in the same error shape.
    const negative = await read(a, path);
    expect(negative.headers.get('x-cache')).toBe('HIT');
    expect(negative.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'article not found' });
  });

  it('treats an upper-case id as the same article: a write through either form shows through the other', async () => {
    const id = await create('case one');
    const upper = `/articles/${id.toUpperCase()}`;
    const lower = `/articles/${id}`;
    // Both forms cached, on both instances.
    for (const api of [a, b]) {
      expect((await read(api, upper)).body.title).toBe('case one');
      expect((await read(api, lower)).body.title).toBe('case one');
    }
    const patched = await author.patch(upper, { title: 'case two' });
    expect(patched.status).toBe(200);
    expect(patched.body.id).toBe(id);
    // Through the lower-case id, on the other instance: the write's invalidation reached the one entry there is.
    const viaLower = await read(b, lower);
    expect(viaLower.body.title).toBe('case two');
    expect((await read(a, upper)).body.title).toBe('case two');
    expect((await author.patch(lower, { title: 'case three' })).status).toBe(200);
    expect((await read(b, upper)).body.title).toBe('case three');
  });

  it('retires every cached list page with one write', async () => {
    await create('list entry');
    const page = await read(a, '/articles?limit=5');
    expect((await read(b, '/articles?limit=5')).headers.get('x-cache')).toBe('HIT');
    const added = await create('newest entry');
    const after = await read(b, '/articles?limit=5');
    expect(after.headers.get('x-cache')).toBe('MISS');
    expect(after.body.items[0].id).toBe(added);
    expect(after.text).not.toBe(page.text);
    // Validation still runs for what was never stored: an extra parameter is a 400, not a hit.
    expect((await read(a, '/articles?limit=5&junk=1')).status).toBe(400);
  });

  it('turns 200 concurrent misses of one key on two instances into exactly one database load', async () => {
    const id = await create('stampede target');
    const before = await loads();
    const responses = await Promise.all(Array.from({ length: 200 }, (_, i) => read(i % 2 ? a : b, `/articles/${id}`)));
    expect(responses.map((r) => r.status)).toEqual(Array(200).fill(200));
    expect(new Set(responses.map((r) => r.text)).size).toBe(1);
    expect((await loads()) - before).toBe(1);
    expect(responses.filter((r) => r.headers.get('x-cache') === 'MISS')).toHaveLength(1);
  });

  it('expires an entry by its TTL', async () => {
    const short = await startApi(infra.env, 'api-cache-ttl', { ...tuning, CACHE_TTL_MS: '700' });
    try {
      const id = await create('short-lived');
      expect((await read(short, `/articles/${id}`)).headers.get('x-cache')).toBe('MISS');
      expect((await read(short, `/articles/${id}`)).headers.get('x-cache')).toBe('HIT');
      await sleep(900);
      expect((await read(short, `/articles/${id}`)).headers.get('x-cache')).toBe('MISS');
    } finally {
      await short.stop();
    }
  });

  it('bypasses a stopped or frozen Redis without a 5xx or a long wait, and heals when it returns', async () => {
    const id = await create('outage');
    const path = `/articles/${id}`;
    await read(a, path);
    await infra.redis.stop();
    try {
      for (let i = 0; i < 5; i++) {
        const res = await read(a, path);
        expect(res.status).toBe(200);
        expect(res.headers.get('x-cache')).toBe('BYPASS');
        expect(res.body.title).toBe('outage');
      }
    } finally {
      await infra.redis.start();
    }
    const healed = await eventuallyHeader(a, path, 'HIT');
    expect(healed).toBe('HIT');

    infra.redis.process.freeze();
    try {
      const started = Date.now();
      const statuses = [];
      for (let i = 0; i < 10; i++) statuses.push(await read(b, path));
      // CACHE_TIMEOUT_MS is 250 here: the first calls time out, then the breaker skips Redis altogether.
      expect(Date.now() - started).toBeLessThan(3000);
      expect(statuses.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(statuses.every((r) => r.headers.get('x-cache') === 'BYPASS')).toBe(true);
    } finally {
      infra.redis.process.thaw();
    }
    expect(await eventuallyHeader(b, path, 'HIT')).toBe('HIT');
    const metrics = (await read(b, '/metrics')).text;
    expect(metricValue(metrics, 'cache_requests_total', { result: 'bypass' })).toBeGreaterThanOrEqual(10);
  });

  it("never refills the cache with a lagging replica's old row after a write", async () => {
    const id = await create('before the write');
    const path = `/articles/${id}`;
    expect((await read(a, path)).body.title).toBe('before the write');
    const replica = infra.cluster.replicas[0]!;
    await replica.query('SELECT pg_wal_replay_pause()');
    try {
      expect((await author.patch(path, { title: 'after the write' })).status).toBe(200);
      // Anonymous readers on both instances: the replica still has the old row, the fill must not use it.
      const refill = await read(b, path);
      expect(refill.headers.get('x-cache')).toBe('MISS');
      expect(refill.headers.get('x-db-node')).toBe('primary');
      expect(refill.body.title).toBe('after the write');
      for (const api of [a, b]) expect((await read(api, path)).body.title).toBe('after the write');
    } finally {
      await replica.query('SELECT pg_wal_replay_resume()');
    }
  });

  it('never caches a 404 for an article a lagging replica has not received yet', async () => {
    const replica = infra.cluster.replicas[0]!;
    await replica.query('SELECT pg_wal_replay_pause()');
    try {
      const created = await author.post('/articles', { title: 'brand new', body: 'x' });
      expect(created.status).toBe(201);
      const path = `/articles/${created.body.id}`;
      // Without the creation's marker the fill would ask the paused replica, get a 404, and cache it.
      for (const api of [b, a, b]) {
        const res = await read(api, path);
        expect(res.status).toBe(200);
        expect(res.body.title).toBe('brand new');
      }
      expect((await author.get(path)).status).toBe(200);
    } finally {
      await replica.query('SELECT pg_wal_replay_resume()');
    }
  });

  it('refuses a fill that started before an invalidation (the stale-set race), at the Redis level', async () => {
    const redis = new Redis(infra.redis.url);
    try {
      const store = new VersionedCacheStore(redis, new CircuitBreaker(3, 1000), 1000);
      const ref = { key: `race:${Date.now()}`, versionKey: `race:${Date.now()}` };
      const miss = await store.lookup(ref);
      if (miss.kind !== 'miss') throw new Error(`expected a miss, got ${miss.kind}`);
      expect(await store.acquireLease(ref, 'loader', 5000)).toBe(true);
      expect(await store.acquireLease(ref, 'second loader', 5000)).toBe(false);
      // A write commits and invalidates while the loader still holds the old row...
      expect(await store.invalidate([ref.key], [ref.versionKey], '0/1000', 5000)).toBe(true);
      // ...so its late store is refused, and the next reader misses with the write's position to read at.
      expect(await store.storeIfCurrent(ref, miss.version, { status: 200, body: '"old row"' }, 60_000, 'loader')).toBe(
        false,
      );
      expect(await store.lookup(ref)).toEqual({ kind: 'miss', version: '1', minLsn: '0/1000', leased: false });
    } finally {
      await redis.quit();
    }
  });

  async function eventuallyHeader(api: ApiInstance, path: string, want: string): Promise<string | null> {
    const deadline = Date.now() + 10_000;
    let last: string | null = null;
    while (Date.now() < deadline) {
      last = (await read(api, path)).headers.get('x-cache');
      if (last === want) return last;
      await sleep(100);
    }
    return last;
  }
});
