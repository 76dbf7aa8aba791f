import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { freePort, sleep } from '../../tools/stack/ports';
import { RedisNode } from '../../tools/stack/redis-node';
import { signUpAndLogIn } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import { eventually } from '../support/eventually';
import { HttpClient } from '../support/http-client';
import { startInfra, type TestInfra } from '../support/infra';
import { metricValue } from '../support/metrics';
import { startWorker, type WorkerInstance } from '../support/worker-process';

/**
 * No job lost, each effect applied once: a worker killed mid-run, duplicate deliveries, and a queue Redis that
 * is down while articles are written. Private PostgreSQL, a session Redis, and a separate queue Redis that this
 * suite stops (as in production, where queues get their own noeviction Redis).
 */
describe('queue durability: crash recovery, exactly-once effects, Redis outage', () => {
  let infra: TestInfra;
  let queueRedis: RedisNode;
  let api: ApiInstance;
  let author: HttpClient;
  let queue: Queue;
  const workers: WorkerInstance[] = [];
  let env: Record<string, string>;
  // Short locks and stall checks, so a killed worker's jobs come back within a second or two.
  const fastRecovery = {
    QUEUE_LOCK_DURATION_MS: '1500',
    QUEUE_STALLED_INTERVAL_MS: '500',
    QUEUE_MAX_STALLED_COUNT: '5',
  };
  const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    infra.cluster.primary.query<T>(text, params);
  const count = async (text: string, params: unknown[] = []) => (await sql<{ n: number }>(text, params))[0]!.n;

  beforeAll(async () => {
    infra = await startInfra({ replicas: 0 });
    queueRedis = new RedisNode({
      name: 'queue-redis',
      port: await freePort(),
      dataDir: join(infra.dir, 'queue-redis'),
      logFile: join(infra.dir, 'logs', 'queue-redis.log'),
    });
    await queueRedis.start();
    env = {
      ...infra.env,
      QUEUE_REDIS_URL: queueRedis.url,
      OUTBOX_POLL_INTERVAL_MS: '200',
      OUTBOX_MAX_BACKOFF_MS: '1000',
    };
    api = await startApi(env, 'api-durability');
    author = new HttpClient(api.url);
    await signUpAndLogIn(author, 'Durable Author');
    queue = new Queue('render', { connection: { url: queueRedis.url } });
    queue.on('error', () => undefined);
  }, 90_000);
  afterAll(async () => {
    await queue?.close();
    await Promise.all(workers.map((w) => w.stop()));
    await api?.stop();
    await queueRedis?.stop();
    await infra?.stop();
  });

  const createMany = async (n: number, prefix: string): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(25, n - i) }, (_, j) =>
          author.post('/articles', { title: `${prefix} ${i + j}`, body: `# ${prefix}\n\nbody ${i + j}` }),
        ),
      );
      for (const res of batch) {
        expect(res.status).toBe(201);
        ids.push(res.body.id);
      }
    }
    return ids;
  };

  it('loses no job and applies each effect once when a worker is killed mid-run (SIGKILL) and another takes over', async () => {
    // Writes and the first worker start together, so the worker is mid-run while jobs still arrive.
    const writing = createMany(500, 'drill');
    const doomed = await startWorker(env, 'worker-doomed', { ...fastRecovery, WORKER_CONCURRENCY: '2' });
    workers.push(doomed);
    const renderedAtKill = await eventually(
      () => count('SELECT count(*)::int AS n FROM article_renders'),
      (n) => n >= 30,
      30_000,
      10,
    );
    await doomed.process.kill();
    expect(renderedAtKill).toBeLessThan(500);
    // The killed worker's jobs are still marked active, their locks held by nobody: the crash hit mid-job.
    const orphaned = await queue.getActiveCount();
    expect(orphaned).toBeGreaterThan(0);
    const ids = await writing;

    const rescuer = await startWorker(env, 'worker-rescuer', { ...fastRecovery, WORKER_CONCURRENCY: '8' });
    workers.push(rescuer);
    await eventually(
      () => count('SELECT count(*)::int AS n FROM article_renders'),
      (n) => n >= 500,
      40_000,
      200,
    );
    await eventually(
      () => queue.getCompletedCount(),
      (n) => n === 500,
    );

    expect(
      await count('SELECT count(*)::int AS n FROM article_renders WHERE article_id = ANY($1::uuid[])', [ids]),
    ).toBe(500);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM articles WHERE id = ANY($1::uuid[]) AND render_status = 'done' AND rendered_revision = revision`,
        [ids],
      ),
    ).toBe(500);
    expect(await queue.getFailedCount()).toBe(0);
    // The rescuer found the orphaned jobs through stalled-job recovery.
    expect(await rescuer.metric('queue_jobs_stalled_total')).toBeGreaterThanOrEqual(orphaned);

    // At-least-once delivery means duplicates: deliver all 500 again (new job ids, same payloads). Nothing changes.
    const snapshot = await sql<{ id: string; rendered_at: Date }>(
      'SELECT id, rendered_at FROM articles WHERE id = ANY($1::uuid[]) ORDER BY id',
      [ids],
    );
    await queue.addBulk(
      ids.map((articleId) => ({ name: 'render', data: { articleId, revision: 1 }, opts: { jobId: randomUUID() } })),
    );
    await eventually(
      () => rescuer.metric('queue_jobs_processed_total', { result: 'already-rendered' }),
      (n) => n >= 500,
      30_000,
      200,
    );
    expect(await count('SELECT count(*)::int AS n FROM article_renders')).toBe(500);
    expect(await sql('SELECT id, rendered_at FROM articles WHERE id = ANY($1::uuid[]) ORDER BY id', [ids])).toEqual(
      snapshot,
    );
  });

  it('accepts writes while the queue Redis is down, and renders all of them once it is back', async () => {
    await queueRedis.stop();
    let ids: string[] = [];
    try {
      ids = await createMany(20, 'outage');
      expect(await count('SELECT count(*)::int AS n FROM outbox')).toBe(20);
      const article = (await author.get(`/articles/${ids[0]}`)).body;
      expect(await (await author.get(`/jobs/${article.render.jobId}`)).body).toMatchObject({ state: 'outbox' });
      // Writes still work, so the instance stays in rotation: the queue is degraded, not down.
      const ready = await author.get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({
        status: 'degraded',
        details: { queue: { status: 'degraded' }, primary: { status: 'up' } },
      });
      await sleep(1500);
      expect(
        await count(`SELECT count(*)::int AS n FROM articles WHERE id = ANY($1::uuid[]) AND render_status = 'done'`, [
          ids,
        ]),
      ).toBe(0);
      // The backlog is on the dashboards: the rows waiting for the queue, and how long the oldest has waited.
      const metrics = (await author.get('/metrics')).text;
      expect(metricValue(metrics, 'outbox_pending_rows')).toBe(20);
      expect(metricValue(metrics, 'outbox_oldest_row_age_seconds')).toBeGreaterThanOrEqual(1.5);
      expect(metricValue(metrics, 'outbox_dead_rows')).toBe(0);
    } finally {
      await queueRedis.start();
    }
    await eventually(
      () =>
        count(`SELECT count(*)::int AS n FROM articles WHERE id = ANY($1::uuid[]) AND render_status = 'done'`, [ids]),
      (n) => n === 20,
      30_000,
      200,
    );
    expect(await count('SELECT count(*)::int AS n FROM outbox')).toBe(0);
    expect(
      await count('SELECT count(*)::int AS n FROM article_renders WHERE article_id = ANY($1::uuid[])', [ids]),
    ).toBe(20);
  });
});
