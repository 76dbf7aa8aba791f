import { Client } from 'pg';
import { signUpAndLogIn } from '../support/accounts';
import { HttpClient } from '../support/http-client';
import { byNode, readLoop, until } from '../support/read-loop';
import { startStackCli, type StackCli } from '../support/stack-cli';

const CONNECT_TIMEOUT_MS = 500;

describe('failover drills through `npm run stack` (synchronous replication, primary + 2 replicas, 1 API)', () => {
  let stack: StackCli;
  let api: string;
  let writer: HttpClient;
  const acknowledged: string[] = [];

  const pg = (port: number) => `postgres://postgres@127.0.0.1:${port}/app`;
  const scalar = async <T>(port: number, sql: string, params: unknown[] = []): Promise<T> => {
    const client = new Client({ connectionString: pg(port), connectionTimeoutMillis: 2000 });
    await client.connect();
    try {
      return Object.values((await client.query(sql, params)).rows[0] as Record<string, T>)[0]!;
    } finally {
      await client.end();
    }
  };
  const apiPid = async () =>
    (await stack.ctl('status'))
      .split('\n')
      .find((l) => l.trim().startsWith('api-1 '))!
      .trim()
      .split(/\s+/)[1];
  const nodeState = async (name: string) =>
    (await new HttpClient(api).get('/health/ready')).body.details?.[`db:${name}`]?.state;

  beforeAll(async () => {
    stack = await startStackCli({
      replicas: 2,
      apis: 1,
      sync: true,
      // Routing drills read the database on every request: no cache-aside in front.
      env: {
        CACHE_ENABLED: 'false',
        DB_MONITOR_INTERVAL_MS: '250',
        DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        HEALTH_CACHE_MS: '0',
        SHUTDOWN_DRAIN_DELAY_MS: '0',
      },
    });
    api = `http://127.0.0.1:${stack.ports.api}`;
    writer = new HttpClient(api);
    await signUpAndLogIn(writer, 'Failover Writer');
  }, 120_000);
  afterAll(() => stack?.stop());

  it('follows a promotion without a restart: writes fail fast with 503 in the gap, and no acknowledged write is lost', async () => {
    const pidBefore = await apiPid();
    const failures: Array<{ status: number; body: unknown; ms: number; retryAfter: string | null }> = [];
    const state = { phase: 'before' as 'before' | 'gap' | 'after', acknowledgedAfter: 0, stop: false };
    const loop = (async () => {
      for (let i = 0; !state.stop; i++) {
        const started = Date.now();
        const res = await writer.post('/articles', { title: `write ${i}`, body: 'counted' });
        if (res.status === 201) {
          acknowledged.push(res.body.id);
          if (state.phase === 'after') state.acknowledgedAfter++;
        } else {
          failures.push({
            status: res.status,
            body: res.body,
            ms: Date.now() - started,
            retryAfter: res.headers.get('retry-after'),
          });
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
    try {
      await until('30 acknowledged writes', async () => acknowledged.length >= 30);
      await stack.ctl('kill', 'primary');
      state.phase = 'gap';
      await until('a write refused in the gap', async () => failures.length > 0);
      // As Patroni would: promote the replica that received the most WAL (the drill refuses the other one).
      const received = async (port: number) => scalar<string>(port, 'SELECT pg_last_wal_receive_lsn()::text');
      const [r1, r2] = await Promise.all([received(stack.ports.pg + 1), received(stack.ports.pg + 2)]);
      const [chosen, other] = (await scalar<boolean>(stack.ports.pg + 1, 'SELECT $1::pg_lsn >= $2::pg_lsn', [r1, r2]))
        ? ['replica-1', 'replica-2']
        : ['replica-2', 'replica-1'];
      const report = await stack.ctl('promote', chosen);
      expect(report).toContain(`${chosen} promoted: primary on timeline 2`);
      expect(report).toContain(`${other} now follows ${chosen} (streaming)`);
      state.phase = 'after';
      await until('20 writes acknowledged after the promotion', async () => state.acknowledgedAfter >= 20, 20_000);
    } finally {
      state.stop = true;
      await loop;
    }
    expect(await apiPid()).toBe(pidBefore);
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures) {
      expect(f).toMatchObject({
        status: 503,
        retryAfter: '2',
        body: {
          statusCode: 503,
          error: 'Service Unavailable',
          message: expect.stringContaining('the database is failing over'),
        },
      });
      // Fail fast: never a hang, at most a connect timeout plus the round trip.
      expect(f.ms).toBeLessThan(CONNECT_TIMEOUT_MS + 1500);
    }
    const newPrimaryPort = (await scalar<boolean>(stack.ports.pg + 1, 'SELECT NOT pg_is_in_recovery()'))
      ? stack.ports.pg + 1
      : stack.ports.pg + 2;
    const present = await scalar<number>(newPrimaryPort, 'SELECT count(*)::int FROM articles WHERE id = ANY($1)', [
      acknowledged,
    ]);
    expect(present).toBe(acknowledged.length);
  });

  it('never writes to the old primary when it comes back believing it is the primary', async () => {
    expect(await stack.ctl('start', 'primary')).toContain('primary started');
    expect(await scalar<boolean>(stack.ports.pg, 'SELECT NOT pg_is_in_recovery()')).toBe(true);
    await until('the old primary fenced', async () => (await nodeState('primary')) === 'fenced');
    const before = await scalar<number>(stack.ports.pg, 'SELECT count(*)::int FROM articles');
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await writer.post('/articles', { title: `after fencing ${i}`, body: 'x' });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    expect(await scalar<number>(stack.ports.pg, 'SELECT count(*)::int FROM articles')).toBe(before);
    expect(await scalar<number>(stack.ports.pg, 'SELECT count(*)::int FROM articles WHERE id = ANY($1)', [ids])).toBe(
      0,
    );
    const ready = await new HttpClient(api).get('/health/ready');
    expect(ready.body.details.primary).toMatchObject({ status: 'up', timeline: 2 });
    expect(ready.body.details.primary.node).not.toBe('primary');
  });

  it('add-replica: a running API instance starts reading from the new replica without a restart', async () => {
    const pidBefore = await apiPid();
    const out = await stack.ctl('add-replica');
    expect(out).toMatch(/^replica-3 cloned from replica-[12], streaming on 127\.0\.0\.1:\d+/);
    expect(await stack.ctl('status')).toMatch(/\n\s+replica-3\s+\d+\s+\S+\s+running\s+up \(replica\)/);
    await until('replica-3 healthy in the API', async () => (await nodeState('replica-3')) === 'healthy');
    const reads = await readLoop(api, '/articles?limit=1', { total: 30, concurrency: 1 });
    expect(reads.filter((r) => r.status !== 200)).toEqual([]);
    expect(byNode(reads)['replica-3']).toBeGreaterThan(0);
    expect(await apiPid()).toBe(pidBefore);
  });

  it('rejects drills that make no sense, with a message and a non-zero exit', async () => {
    const says = (text: string, ...args: string[]) =>
      expect(stack.ctl(...args)).rejects.toMatchObject({ code: 1, stdout: expect.stringContaining(text) });
    await says('usage: npm run stack -- promote <name>', 'promote');
    await says('no PostgreSQL node named "redis"', 'promote', 'redis');
    await says('is not a replica: it is a primary already', 'promote', 'primary');
    await says('add-replica (it takes no arguments)', 'add-replica', 'now');
  });
});
