import { Client } from 'pg';
import { sleep } from '../../tools/stack/ports';
import { signUpAndLogIn } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import { eventually } from '../support/eventually';
import { HttpClient, type HttpResponse } from '../support/http-client';
import { metricValue } from '../support/metrics';
import { sharedInfra } from '../support/shared-infra';

/**
 * A full connection pool is this instance's back-pressure, not a dead database node. One pooled connection per
 * node and a 250 ms wait for it, then far more concurrent writes and reads than that connection can serve: the
 * ones that find it busy get a fast 503 with Retry-After naming the wait, and no node is ever taken for failed
 * (pg-pool words its wait timeout like a failed connect; it used to make the primary "unavailable").
 */
describe('database pool pressure (real API process, shared primary + 2 replicas, DB_POOL_SIZE=1)', () => {
  const { env } = sharedInfra();
  let api: ApiInstance;
  let author: HttpClient;
  let articleId: string;

  beforeAll(async () => {
    api = await startApi(env, 'api-pool', {
      DB_POOL_SIZE: '1',
      DB_CONNECT_TIMEOUT_MS: '250',
      // A node wrongly marked failed stays so until the next probe: a long interval keeps that visible here.
      DB_MONITOR_INTERVAL_MS: '60000',
      CACHE_ENABLED: 'false',
      OUTBOX_RELAY_ENABLED: 'false',
      RATE_LIMIT_ENABLED: 'false',
    });
    author = new HttpClient(api.url);
    await signUpAndLogIn(author, 'Pool Pressure');
    const created = await author.post('/articles', { title: 'read under pressure', body: 'b' });
    expect(created.status).toBe(201);
    articleId = created.body.id;
    // Anonymous reads go to the replicas: wait until both have replayed the insert, or a lagging one answers 404.
    const anonymous = new HttpClient(api.url);
    await eventually(
      async () => Promise.all([0, 1, 2, 3].map(async () => (await anonymous.get(`/articles/${articleId}`)).status)),
      (statuses) => statuses.every((s) => s === 200),
      10_000,
    );
  });
  afterAll(() => api?.stop());

  const scrape = async () => (await new HttpClient(api.url).get('/metrics')).text;

  it('answers a busy pool with 503 + Retry-After, never "no primary", and keeps every node in rotation', async () => {
    const before = await scrape();
    // A slow transaction, made deterministic: the article's row is locked from outside for 1 s, so the first edit
    // holds the pool's one primary connection while it waits, and the edits behind it wait for that connection
    // (the 250 ms DB_CONNECT_TIMEOUT_MS) however fast this machine is.
    const locker = new Client({ connectionString: env.DB_PRIMARY });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT id FROM articles WHERE id = $1 FOR UPDATE', [articleId]);
    const anonymous = new HttpClient(api.url);
    const requests: Promise<HttpResponse<{ message?: string }>>[] = [];
    for (let i = 0; i < 20; i++) {
      requests.push(author.patch(`/articles/${articleId}`, { title: `pressure ${i}` }));
      requests.push(author.post('/articles', { title: `pressure ${i}`, body: 'b' }));
      requests.push(anonymous.get(`/articles/${articleId}`));
      requests.push(anonymous.get('/articles?limit=5'));
    }
    await sleep(1000);
    await locker.query('COMMIT');
    await locker.end();
    const responses = await Promise.all(requests);
    const after = await scrape();

    const busy = responses.filter((r) => r.status === 503);
    const unexpected = responses.filter((r) => ![200, 201, 503].includes(r.status));
    expect(unexpected.map((r) => ({ status: r.status, body: r.body }))).toEqual([]);
    // No request was told the primary is gone, and no node left rotation.
    expect(responses.filter((r) => /No database primary/.test(r.body.message ?? '')).length).toBe(0);
    expect(metricValue(after, 'db_primary_unavailable_total')).toBe(
      metricValue(before, 'db_primary_unavailable_total'),
    );
    const nodeStates = after.split('\n').filter((l) => l.startsWith('db_node_up{'));
    expect(nodeStates).toHaveLength(3);
    for (const line of nodeStates) expect(line).toMatch(/state="healthy".*\} 1$/);
    // The pool really was exhausted (otherwise this test would prove nothing), and said so.
    expect(busy.length).toBeGreaterThan(0);
    expect(metricValue(after, 'db_pool_wait_timeouts_total', { node: 'primary' })).toBeGreaterThan(
      metricValue(before, 'db_pool_wait_timeouts_total', { node: 'primary' }),
    );
    for (const r of busy) {
      expect(r.headers.get('retry-after')).toBe('1');
      expect(r.body.message).toMatch(
        /^This instance's connections to (primary|replica-\d) are all busy \(waited \d+ ms/,
      );
    }
    const ready = await new HttpClient(api.url).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details.primary.status).toBe('up');

    // At rest again, a write goes through at once: nothing waits for a probe to put a node back.
    const write = await author.post('/articles', { title: 'after the storm', body: 'b' });
    expect(write.status).toBe(201);
  });
});
