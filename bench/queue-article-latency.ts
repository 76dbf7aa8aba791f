import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeProgram, runMigrations, waitForHttp } from '../tools/stack/node-programs';
import { startPostgresCluster } from '../tools/stack/postgres-cluster';
import { freePort } from '../tools/stack/ports';
import { RedisNode } from '../tools/stack/redis-node';
import { percentile as pct } from './percentile';

const ARTICLES = Number(process.env.BENCH_ARTICLES ?? 200);

/**
 * The path an article really takes, with real processes: POST /articles commits the article and its outbox row,
 * the API's relay (woken by the commit) moves it to BullMQ, the worker process renders it. Latency is
 * rendered_at - created_at, both from the database clock (ms precision), so polling adds no error.
 */
export async function measureArticleLatency(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'z2m-bench-articles-'));
  const [pgPort, redisPort, apiPort, workerPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const redis = new RedisNode({
    port: redisPort,
    dataDir: join(dir, 'redis'),
    logFile: join(dir, 'logs', 'redis.log'),
  });
  const [cluster] = await Promise.all([
    startPostgresCluster({ dir, primaryPort: pgPort, replicaPorts: [], fast: true }),
    redis.start(),
  ]);
  const env = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DB_PRIMARY: cluster.primary.url(),
    REDIS_URL: redis.url,
    SESSION_SECRET: randomBytes(32).toString('base64url'),
    PASSWORD_HASH_MEMORY_KIB: '8192',
    PASSWORD_HASH_ITERATIONS: '1',
    HOST: '127.0.0.1',
  };
  await runMigrations(env);
  const api = nodeProgram({
    name: 'api',
    script: 'main.js',
    env: { ...env, PORT: String(apiPort), INSTANCE_ID: 'api' },
    logFile: join(dir, 'logs', 'api.log'),
  });
  const worker = nodeProgram({
    name: 'worker',
    script: 'worker.js',
    env: { ...env, WORKER_HTTP_PORT: String(workerPort), INSTANCE_ID: 'worker' },
    logFile: join(dir, 'logs', 'worker.log'),
  });
  try {
    api.start();
    worker.start();
    await Promise.all([
      waitForHttp(`http://127.0.0.1:${apiPort}/health/live`, api),
      waitForHttp(`http://127.0.0.1:${workerPort}/health/live`, worker),
    ]);
    const base = `http://127.0.0.1:${apiPort}`;
    const json = { 'content-type': 'application/json' };
    const credentials = { email: 'bench@example.com', password: 'correct horse battery' };
    const signup = await fetch(`${base}/auth/signup`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ ...credentials, name: 'Bench' }),
    });
    const login = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(credentials),
    });
    const cookie = login.headers.getSetCookie()[0]?.split(';')[0];
    if (!cookie)
      throw new Error(
        `sign-in failed: signup ${signup.status} ${await signup.text()}, login ${login.status} ${await login.text()}`,
      );

    console.log(`\nArticle write to rendered, real API and worker processes (${ARTICLES} articles, one every 25 ms):`);
    for (let i = 0; i < ARTICLES; i++) {
      const res = await fetch(`${base}/articles`, {
        method: 'POST',
        headers: { ...json, cookie },
        body: JSON.stringify({ title: `Bench ${i}`, body: `# Bench ${i}\n\nSome *markdown* text.` }),
      });
      if (res.status !== 201) throw new Error(`POST /articles answered ${res.status}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const deadline = Date.now() + 30_000;
    let rows: Array<{ ms: number }> = [];
    while (Date.now() < deadline) {
      rows = await cluster.primary.query<{ ms: number }>(
        `SELECT extract(epoch FROM rendered_at - created_at)::float8 * 1000 AS ms FROM articles WHERE render_status = 'done'`,
      );
      if (rows.length === ARTICLES) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const ms = rows.map((r) => r.ms);
    console.log(
      `  rendered ${ms.length}/${ARTICLES}   p50 ${pct(ms, 50).toFixed(0)} ms   p99 ${pct(ms, 99).toFixed(0)} ms   (the commit wakes the relay; its poll interval is 1000 ms)`,
    );
  } finally {
    await Promise.all([api.stop('SIGTERM', 15_000), worker.stop('SIGTERM', 15_000)]);
    await Promise.all([cluster.stop(), redis.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
