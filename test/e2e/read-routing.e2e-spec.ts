import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { PASSWORD, signUpAndLogIn, uniqueEmail } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import { HttpClient } from '../support/http-client';
import { metricValue } from '../support/metrics';
import { byNode, readLoop, until } from '../support/read-loop';
import { replicasOf, waitForReplicas } from '../support/replication';
import { sharedInfra } from '../support/shared-infra';

describe('read/write splitting (real API process, shared primary + 2 replicas)', () => {
  const { env } = sharedInfra();
  let api: ApiInstance;
  let author: HttpClient;

  beforeAll(async () => {
    // No outbox relay: its background polling of the primary would blur "reads never touch the primary".
    // Routing is measured per request, so no cache-aside in front of the database.
    api = await startApi(env, 'api-routing', {
      CACHE_ENABLED: 'false',
      DB_MONITOR_INTERVAL_MS: '250',
      HEALTH_CACHE_MS: '0',
      SHUTDOWN_DRAIN_DELAY_MS: '0',
      OUTBOX_RELAY_ENABLED: 'false',
    });
    author = new HttpClient(api.url);
    await signUpAndLogIn(author, 'Router');
  });
  afterAll(() => api?.stop());

  const scrape = async () => (await new HttpClient(api.url).get('/metrics')).text;
  const queries = (text: string, node: string, role: string) => metricValue(text, 'db_queries_total', { node, role });

  it('writes land on the primary, and reads spread over both replicas', async () => {
    const before = await scrape();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await author.post('/articles', { title: `routed ${i}`, body: 'b' });
      expect(res.status).toBe(201);
      expect(res.headers.get('x-db-node')).toBe('primary');
      ids.push(res.body.id);
    }
    const afterWrites = await scrape();
    expect(queries(afterWrites, 'primary', 'primary') - queries(before, 'primary', 'primary')).toBeGreaterThanOrEqual(
      10,
    );
    for (const node of ['replica-1', 'replica-2'])
      expect(queries(afterWrites, node, 'replica')).toBe(queries(before, node, 'replica'));
    const primary = new Client({ connectionString: env.DB_PRIMARY });
    await primary.connect();
    try {
      expect((await primary.query('SELECT count(*)::int AS n FROM articles WHERE id = ANY($1)', [ids])).rows[0].n).toBe(
        10,
      );
    } finally {
      await primary.end();
    }

    await waitForReplicas(env);
    const reads = await readLoop(api.url, `/articles/${ids[0]}`, { total: 60, concurrency: 1 });
    expect(reads.filter((r) => r.status !== 200)).toEqual([]);
    const nodes = byNode(reads);
    expect(nodes.primary).toBeUndefined();
    expect(nodes['replica-1']).toBeGreaterThanOrEqual(15);
    expect(nodes['replica-2']).toBeGreaterThanOrEqual(15);
    const afterReads = await scrape();
    // A scrape itself reads the outbox backlog on the primary; measure that cost, then reads must add nothing.
    const perScrape = queries(await scrape(), 'primary', 'primary') - queries(afterReads, 'primary', 'primary');
    expect(queries(afterReads, 'primary', 'primary') - queries(afterWrites, 'primary', 'primary')).toBe(perScrape);
    const replicaQueries = ['replica-1', 'replica-2'].reduce(
      (sum, n) => sum + queries(afterReads, n, 'replica') - queries(afterWrites, n, 'replica'),
      0,
    );
    expect(replicaQueries).toBeGreaterThanOrEqual(60);
  });

  it('a session reads its own writes at once, though the replicas replay them later', async () => {
    const { body: article } = await author.post('/articles', { title: 'v0', body: 'b' });
    for (let i = 1; i <= 30; i++) {
      expect((await author.patch(`/articles/${article.id}`, { title: `v${i}` })).status).toBe(200);
      const read = await author.get(`/articles/${article.id}`);
      expect(read.body.title).toBe(`v${i}`);
      expect(read.headers.get('x-db-node')).toMatch(/^(primary|replica-[12])$/);
    }
  });

  it('signs in on the primary, so an account created a moment ago can always sign in', async () => {
    const client = new HttpClient(api.url);
    const email = uniqueEmail();
    expect((await client.post('/auth/signup', { email, password: PASSWORD, name: 'Fresh' })).status).toBe(201);
    const login = await client.post('/auth/login', { email, password: PASSWORD });
    expect(login.status).toBe(200);
    expect(login.headers.get('x-db-node')).toBe('primary');
    expect((await client.get('/auth/me')).body.email).toBe(email);
  });

  it('reports every node in readiness and metrics, by the names of the stack processes', async () => {
    const ready = await new HttpClient(api.url).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details).toMatchObject({
      primary: { status: 'up', node: 'primary', timeline: 1 },
      'db:primary': { status: 'up', role: 'primary', state: 'healthy' },
      'db:replica-1': {
        status: 'up',
        role: 'replica',
        state: 'healthy',
        lagSeconds: expect.any(Number),
        lagBytes: expect.any(Number),
      },
      'db:replica-2': { status: 'up', role: 'replica', state: 'healthy' },
    });
    const text = await scrape();
    expect(text).toMatch(/^db_replica_lag_seconds\{node="replica-1",instance="api-routing"\} [\d.e-]+$/m);
    expect(text).toMatch(/^db_replica_lag_bytes\{node="replica-2",instance="api-routing"\} \d+$/m);
    expect(text).toMatch(/^db_node_up\{node="primary",role="primary",state="healthy",instance="api-routing"\} 1$/m);
    for (const name of [
      'db_read_retries_total',
      'db_replica_fallbacks_total',
      'db_read_your_writes_primary_reads_total',
      'db_primary_unavailable_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} counter`);
    }
  });

  it('sends no X-Db-Node header when debug headers are off (the production default)', async () => {
    const quiet = await startApi(env, 'api-quiet', {
      CACHE_ENABLED: 'false',
      DEBUG_HEADERS: 'false',
      SHUTDOWN_DRAIN_DELAY_MS: '0',
    });
    try {
      const res = await new HttpClient(quiet.url).get('/articles?limit=1');
      expect(res.status).toBe(200);
      expect(res.headers.get('x-db-node')).toBeNull();
    } finally {
      await quiet.stop();
    }
  });

  it('follows a node list file while running, and keeps the last good list when the file is bad', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'z2m-nodes-'));
    const file = join(dir, 'db-nodes.json');
    const [replica1, replica2] = replicasOf(env);
    const list = (...replicas: Array<{ name: string; url: string }>) =>
      JSON.stringify({ nodes: [{ name: 'primary', url: env.DB_PRIMARY }, ...replicas] });
    const watcher = await startApi(env, 'api-nodes-file', {
      CACHE_ENABLED: 'false',
      DB_NODES_FILE: file,
      DB_MONITOR_INTERVAL_MS: '200',
      SHUTDOWN_DRAIN_DELAY_MS: '0',
    });
    try {
      // No file yet: the configured nodes serve, and the log says why.
      await watcher.waitForLog(
        (l) => typeof l.msg === 'string' && l.msg.includes('cannot read it (ENOENT); keeping the configured node list'),
      );
      const nodeKeys = async () =>
        Object.keys((await new HttpClient(watcher.url).get('/health/ready')).body.details).filter((k) =>
          k.startsWith('db:'),
        );
      expect(await nodeKeys()).toEqual(['db:primary', 'db:replica-1', 'db:replica-2']);

      writeFileSync(file, list(replica1!));
      await until('replica-2 to leave', async () => !(await nodeKeys()).includes('db:replica-2'));
      expect(byNode(await readLoop(watcher.url, '/articles?limit=1', { total: 20 }))['replica-2']).toBeUndefined();

      writeFileSync(file, '{"nodes": [ {"name": "replica-9", "url": "mysql://nope"');
      await watcher.waitForLog(
        (l) => typeof l.msg === 'string' && l.msg.includes('is not JSON; keeping the current node list'),
      );
      expect(await nodeKeys()).toEqual(['db:primary', 'db:replica-1']);
      expect((await new HttpClient(watcher.url).get('/articles?limit=1')).status).toBe(200);

      writeFileSync(file, list(replica1!, replica2!));
      await until(
        'reads on replica-2 again',
        async () =>
          (await new HttpClient(watcher.url).get('/articles?limit=1')).headers.get('x-db-node') === 'replica-2',
      );
      expect(watcher.log()).not.toContain('mysql://nope');
    } finally {
      await watcher.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
