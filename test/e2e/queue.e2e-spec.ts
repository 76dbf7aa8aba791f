import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { sleep } from '../../tools/stack/ports';
import { signUpAndLogIn } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import { eventually } from '../support/eventually';
import { errorShape, HttpClient } from '../support/http-client';
import { startInfra, type TestInfra } from '../support/infra';
import { startWorker, sumMetric, type WorkerInstance } from '../support/worker-process';

/**
 * Article rendering through the outbox, BullMQ and real worker processes (private PostgreSQL and Redis, since
 * the poison drill changes the schema and the drain drills hold row locks).
 */
describe('queue: asynchronous rendering, dead letters, admin routes, draining', () => {
  let infra: TestInfra;
  let api: ApiInstance;
  let author: HttpClient;
  const workers: WorkerInstance[] = [];
  const ADMIN_TOKEN = randomBytes(32).toString('base64url');
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const env = () => ({ ...infra.env, ADMIN_TOKEN, JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '100', HEALTH_CACHE_MS: '0' });
  const worker = async (name: string, extra: Record<string, string> = {}) => {
    // debug: one line per completed job (at info only retries, failures and requeues are logged).
    const w = await startWorker(env(), name, { WORKER_CONCURRENCY: '4', LOG_LEVEL: 'debug', ...extra });
    workers.push(w);
    return w;
  };
  const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    infra.cluster.primary.query<T>(text, params);

  beforeAll(async () => {
    infra = await startInfra({ replicas: 0 });
    api = await startApi(env(), 'api-queue', {
      OUTBOX_POLL_INTERVAL_MS: '200',
      OUTBOX_MAX_ATTEMPTS: '3',
      OUTBOX_MAX_BACKOFF_MS: '400',
    });
    author = new HttpClient(api.url);
    await signUpAndLogIn(author, 'Queue Author');
  }, 90_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await api?.stop();
    await infra?.stop();
  });

  const create = async (body: string, headers: Record<string, string> = {}) => {
    const res = await author.post('/articles', { title: 'Queued', body }, { headers });
    expect(res.status).toBe(201);
    return res.body as { id: string; render: { jobId: string } };
  };
  const article = async (id: string) => (await author.get(`/articles/${id}`)).body;
  const rendered = (id: string, revision = 1) =>
    eventually(
      () => article(id),
      (a) => a.render.status === 'done' && a.revision === revision,
    );
  const job = async (id: string) => (await author.get(`/jobs/${id}`)).body;

  it('queues jobs while no worker runs, exposes the backlog and its age, then renders sanitized HTML', async () => {
    const hostile =
      '# Title\n\n<script>alert(1)</script> <img src="https://example.com/x.png" onerror="alert(2)"> [link](javascript:alert(3)) <a href="javascript:alert(4)">a</a>';
    const [{ lsn: beforeWrite }] = (await sql<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')) as [
      { lsn: string },
    ];
    const first = await create(hostile, { 'x-request-id': 'req-render-1' });
    const second = await create('plain *text*');
    // The API's relay puts them in the queue even with no worker running (so a scaler can start one from zero).
    await eventually(
      () => job(first.render.jobId),
      (j) => j.state === 'waiting',
    );
    // The relay stamped the job with a WAL position past the causing write: the worker reads at least that fresh.
    const queued = new Redis(infra.redis.url);
    const { minLsn } = JSON.parse((await queued.hget(`bull:render:${first.render.jobId}`, 'data'))!) as {
      minLsn: string;
    };
    await queued.quit();
    const [{ ahead }] = (await sql<{ ahead: boolean }>('SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn) > 0 AS ahead', [
      minLsn,
      beforeWrite,
    ])) as [{ ahead: boolean }];
    expect(ahead).toBe(true);
    await sleep(1100);
    const metrics = (await author.get('/metrics')).text;
    expect(sumMetric(metrics, 'queue_jobs', { queue: 'render', state: 'waiting' })).toBe(2);
    expect(sumMetric(metrics, 'queue_oldest_waiting_job_age_seconds', { queue: 'render' })).toBeGreaterThanOrEqual(1);
    expect(sumMetric(metrics, 'outbox_pending_rows')).toBe(0);

    await worker('worker-a');
    await worker('worker-b');
    const done = await rendered(first.id);
    expect(done.render).toEqual({
      status: 'done',
      readingTimeMinutes: 1,
      error: null,
      jobId: first.render.jobId,
      html: expect.any(String),
    });
    expect(done.render.html).toContain('<h1>Title</h1>');
    expect(done.render.html).toContain('<img src="https://example.com/x.png" />');
    expect(done.render.html).not.toMatch(/<script|onerror|javascript:alert\(4\)|href="javascript/i);
    expect((await rendered(second.id)).render.html).toBe('<p>plain <em>text</em></p>\n');
    expect(await job(first.render.jobId)).toMatchObject({
      id: first.render.jobId,
      queue: 'render',
      state: 'completed',
      failedReason: null,
    });

    // One id follows the request from the API into the worker's log lines for its job.
    const line = await eventually(
      async () =>
        workers
          .flatMap((w) => w.log().split('\n'))
          .find((l) => l.includes(first.render.jobId) && l.includes('"result":"rendered"')),
      (l) => l !== undefined,
      5000,
    );
    expect(JSON.parse(line!)).toMatchObject({
      requestId: 'req-render-1',
      jobId: first.render.jobId,
      queue: 'render',
      attempt: 1,
    });
  });

  it('renders a changed body as a new revision, and enqueues nothing for a title-only edit', async () => {
    const a = await create('first body');
    await rendered(a.id);
    const edited = await author.patch(`/articles/${a.id}`, { body: 'second **body**' });
    expect(edited.body).toMatchObject({ revision: 2, render: { status: 'pending', html: null } });
    expect(edited.body.render.jobId).not.toBe(a.render.jobId);
    expect((await rendered(a.id, 2)).render.html).toBe('<p>second <strong>body</strong></p>\n');

    const retitled = await author.patch(`/articles/${a.id}`, { title: 'New title' });
    expect(retitled.body).toMatchObject({ revision: 2, render: { status: 'done', jobId: edited.body.render.jobId } });
    const renders = await sql<{ revision: number }>(
      'SELECT revision FROM article_renders WHERE article_id = $1 ORDER BY revision',
      [a.id],
    );
    expect(renders.map((r) => r.revision)).toEqual([1, 2]);
  });

  it('shares the load between two workers', async () => {
    const before = await Promise.all(
      workers.map((w) => w.metric('queue_jobs_processed_total', { outcome: 'completed' })),
    );
    const created = await Promise.all(Array.from({ length: 60 }, (_, i) => create(`article ${i}`)));
    const ids = created.map((c) => c.id);
    const byWorker = await eventually(
      () =>
        sql<{ worker: string; n: number }>(
          'SELECT worker, count(*)::int AS n FROM article_renders WHERE article_id = ANY($1::uuid[]) GROUP BY worker',
          [ids],
        ),
      (rows) => rows.reduce((s, r) => s + r.n, 0) === 60,
    );
    expect(byWorker.map((r) => r.worker).sort()).toEqual(['worker-a', 'worker-b']);
    expect(Math.min(...byWorker.map((r) => r.n))).toBeGreaterThan(0);
    const after = await Promise.all(
      workers.map((w) => w.metric('queue_jobs_processed_total', { outcome: 'completed' })),
    );
    expect(after.map((n, i) => n - before[i]!).every((n) => n > 0)).toBe(true);
  });

  it('retries a failing job with backoff, keeps it in the failed set with its error, and retries it from the admin route once fixed', async () => {
    const marker = `poison-${randomUUID()}`;
    // A realistic persistent failure: the database rejects the worker's write (a constraint, like a bad
    // migration or a permission change would), so every attempt fails until an operator fixes the schema.
    await sql(
      `ALTER TABLE articles ADD CONSTRAINT poison_guard CHECK (rendered_html IS NULL OR position('${marker}' in rendered_html) = 0)`,
    );
    const poisoned = await create(`carries ${marker}`);
    const failed = await eventually(
      () => job(poisoned.render.jobId),
      (j) => j.state === 'failed',
    );
    expect(failed).toMatchObject({
      attemptsMade: 3,
      attempts: 3,
      failedReason: expect.stringContaining('poison_guard'),
    });
    const shown = await article(poisoned.id);
    expect(shown.render).toMatchObject({
      status: 'failed',
      html: null,
      error: expect.stringContaining('poison_guard'),
    });

    const dead = await author.get('/admin/jobs/failed?queue=render&limit=10', { headers: admin });
    expect(dead.status).toBe(200);
    expect(dead.body.total).toBe(1);
    expect(dead.body.items[0]).toMatchObject({
      id: poisoned.render.jobId,
      state: 'failed',
      data: { articleId: poisoned.id, revision: 1 },
    });

    await sql('ALTER TABLE articles DROP CONSTRAINT poison_guard');
    const retried = await author.post(`/admin/jobs/${poisoned.render.jobId}/retry`, undefined, { headers: admin });
    expect(retried.status).toBe(200);
    expect(retried.body.id).toBe(poisoned.render.jobId);
    expect(['waiting', 'active', 'completed']).toContain(retried.body.state);
    expect((await rendered(poisoned.id)).render).toMatchObject({
      status: 'done',
      error: null,
      html: expect.stringContaining(marker),
    });
    expect(await job(poisoned.render.jobId)).toMatchObject({ state: 'completed' });
    expect((await author.get('/admin/jobs/failed', { headers: admin })).body.total).toBe(0);
  });

  it('relays every good row of a batch once, and dead-letters the one the queue refuses', async () => {
    const metric = async (name: string, labels: Record<string, string> = {}) =>
      sumMetric((await author.get('/metrics')).text, name, labels);
    const relayedBefore = await metric('outbox_relayed_total');
    const target = await create('re-rendered by the batch');
    // One transaction, one batch: the poisoned row first (the oldest), then five good ones behind it.
    const rows = await sql<{ id: string; queue: string }>(
      `INSERT INTO outbox (queue, job_name, payload, created_at)
       SELECT q, 'render', jsonb_build_object('articleId', $1::text, 'revision', 1), now() + i * interval '1 ms'
         FROM (VALUES (0, 'no-such-queue'), (1, 'render'), (2, 'render'), (3, 'render'), (4, 'render'), (5, 'render'))
              AS v(i, q)
       RETURNING id, queue`,
      [target.id],
    );
    const poisoned = rows.find((r) => r.queue === 'no-such-queue')!.id;
    const good = rows.filter((r) => r.queue === 'render').map((r) => r.id);

    // Every good row reached the queue at once (its job is known there), and was sent exactly once.
    for (const id of good)
      expect(
        (
          await eventually(
            () => job(id),
            (j) => j.state !== 'outbox',
          )
        ).state,
      ).toMatch(/waiting|active|completed/);
    // The poisoned row was refused 3 times, each time alone, and is now a dead letter, out of the relay's way.
    const dead = await eventually(
      () => job(poisoned),
      (j) => j.state === 'outbox-dead',
    );
    expect(dead).toMatchObject({ attemptsMade: 3, failedReason: 'outbox row for unknown queue "no-such-queue"' });
    expect((await metric('outbox_relayed_total')) - relayedBefore).toBe(good.length + 1);
    expect(await metric('outbox_dead_letters_total', { queue: 'no-such-queue' })).toBe(1);
    expect(await metric('outbox_dead_rows')).toBe(1);
    expect(await metric('outbox_pending_rows')).toBe(0);

    const listed = await author.get('/admin/outbox/dead?limit=5', { headers: admin });
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({
      total: 1,
      items: [{ id: poisoned, queue: 'no-such-queue', attempts: 3, data: { articleId: target.id, revision: 1 } }],
    });
    expect((await author.get('/admin/outbox/dead')).status).toBe(401);
    expect((await author.post('/admin/outbox/not-a-uuid/retry', undefined, { headers: admin })).status).toBe(400);
    expect((await author.post(`/admin/outbox/${good[0]}/retry`, undefined, { headers: admin })).status).toBe(404);
    // Retried (upper-case id: one canonical form), it gets a fresh set of attempts, and is refused again.
    const retried = await author.post(`/admin/outbox/${poisoned.toUpperCase()}/retry`, undefined, { headers: admin });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ id: poisoned, attempts: 0, deadAt: null });
    await eventually(
      () => job(poisoned),
      (j) => j.state === 'outbox-dead',
    );
    await sql('DELETE FROM outbox WHERE id = $1', [poisoned]);
  });

  it('guards the admin routes and the whole dashboard subtree, and answers bad input with 4xx JSON', async () => {
    const anon = new HttpClient(api.url);
    const basic = { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` };
    for (const path of [
      '/admin/queues',
      '/admin/queues/api/queues',
      '/admin/queues/static/js/x.js',
      '/admin/jobs/failed',
    ]) {
      const res = await anon.get(path);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'admin credentials required' });
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="admin"/);
      expect(
        (await anon.get(path, { headers: { authorization: 'Bearer wrong-token-of-some-length-000000000' } })).status,
      ).toBe(401);
    }
    const board = await anon.get('/admin/queues', { headers: basic });
    expect(board.status).toBe(200);
    expect(board.text).toContain('<base href="/admin/queues/"');
    const queues = await anon.get('/admin/queues/api/queues', { headers: basic });
    expect(queues.body.queues.map((q: { name: string }) => q.name)).toEqual(['render']);

    const done = await create('for the conflict case');
    await rendered(done.id);
    const cases: Array<[string, string, number]> = [
      ['GET', '/jobs/not-a-uuid', 400],
      ['GET', `/jobs/${randomUUID()}`, 404],
      ['POST', '/admin/jobs/not-a-uuid/retry', 400],
      ['POST', `/admin/jobs/${randomUUID()}/retry`, 404],
      ['POST', `/admin/jobs/${done.render.jobId}/retry`, 409],
      ['GET', '/admin/jobs/failed?queue=nope', 400],
      ['GET', '/admin/jobs/failed?limit=0', 400],
      ['GET', '/admin/jobs/failed?limit=abc', 400],
      ['GET', '/admin/jobs/failed?offset=-1', 400],
      ['GET', '/admin/jobs/failed?extra=1', 400],
    ];
    for (const [method, path, status] of cases) {
      const res = await anon.request(method, path, { headers: admin });
      expect({ path, status: res.status, body: res.body }).toEqual({ path, status, body: errorShape(status) });
    }
    expect(
      (await anon.post(`/admin/jobs/${done.render.jobId}/retry`, undefined, { headers: admin })).body.message,
    ).toBe('job is completed; only failed jobs can be retried');
  });

  describe('graceful shutdown (SIGTERM)', () => {
    let locker: Client;
    beforeAll(async () => {
      // Only the drain drills' own workers may take these jobs.
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      locker = new Client({ connectionString: infra.env.DB_PRIMARY });
      await locker.connect();
    });
    afterAll(() => locker?.end());

    /** A job that is active and cannot finish: its article row is locked by someone else, as in real contention. */
    const stuckJob = async (drainTimeoutMs: number, extraEnv: Record<string, string> = {}) => {
      const a = await create('contended');
      await eventually(
        () => job(a.render.jobId),
        (j) => j.state === 'waiting',
      );
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM articles WHERE id = $1 FOR UPDATE', [a.id]);
      const w = await worker(`worker-drain-${drainTimeoutMs}`, {
        WORKER_DRAIN_TIMEOUT_MS: String(drainTimeoutMs),
        ...extraEnv,
      });
      await eventually(
        () => job(a.render.jobId),
        (j) => j.state === 'active',
      );
      return { a, w };
    };

    it('stops taking jobs, finishes the active one, and exits 0', async () => {
      const { a, w } = await stuckJob(15_000);
      w.process.signal('SIGTERM');
      await w.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('SIGTERM: taking no new jobs'));
      const ready = await fetch(`${w.url}/health/ready`).then((r) =>
        r.json().then((body) => ({ status: r.status, body })),
      );
      expect(ready).toMatchObject({ status: 503, body: { statusCode: 503, status: 'draining' } });
      const waiting = await create('arrives during the drain');
      await locker.query('COMMIT');
      expect(await w.process.waitForExit()).toBe(0);
      expect((await article(a.id)).render.status).toBe('done');
      expect(w.log()).toContain('drained: 0 unfinished job(s) put back in the queue');
      // The draining worker took no new job.
      expect(await job(waiting.render.jobId)).toMatchObject({ state: 'waiting' });
    });

    it('puts a job it cannot finish by the deadline back in the queue, without using an attempt', async () => {
      // The abandoned statement ends at its query timeout, so the worker's pool can close soon after the drain.
      const { a, w } = await stuckJob(1000, { DB_QUERY_TIMEOUT_MS: '2000' });
      w.process.signal('SIGTERM');
      expect(await w.process.waitForExit()).toBe(0);
      expect(w.log()).toContain('drained: 1 unfinished job(s) put back in the queue');
      expect(await job(a.render.jobId)).toMatchObject({ state: 'waiting', attemptsMade: 0 });
      await locker.query('ROLLBACK');
      await worker('worker-after-drain');
      expect((await rendered(a.id)).render.status).toBe('done');
      expect(await job(a.render.jobId)).toMatchObject({ state: 'completed', attemptsMade: 1 });
    });
  });
});
