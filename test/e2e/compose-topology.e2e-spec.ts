import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import type { ManagedProcess } from '../../tools/stack/managed-process';
import { startPostgresCluster, type PostgresCluster } from '../../tools/stack/postgres-cluster';
import { freePort } from '../../tools/stack/ports';
import { postgresServiceUser } from '../../tools/stack/service-user';
import { signUpAndLogIn } from '../support/accounts';
import { loadCompose, REPO_ROOT, requiredVariables } from '../support/compose-file';
import { LocalCompose, pgQuery, redisCommand, waitForPostgres } from '../support/compose-local';
import { startDnsServer, type TestDnsServer } from '../support/dns-server';
import { eventually } from '../support/eventually';
import { FAST_HEALTH } from '../support/gateway-process';
import { HttpClient } from '../support/http-client';
import { Load } from '../support/load';

const run = promisify(execFile);

/**
 * docker/compose.yml's topology, run without Docker: every service with compose's own command, environment
 * and health check, as local processes. What a container network would provide is translated: service
 * addresses become loopback addresses and free ports, the API instances share one port on 127.0.0.2, .3, ...
 * (as containers share one port on their own IPs), `api` is a name our DNS server answers with those
 * addresses (Docker's embedded DNS does the same for a scaled service), and each instance gets the hostname
 * a container would have as INSTANCE_ID. The gateway's DNS and health intervals are shortened for speed.
 */
describe('compose topology without Docker: gateway -> DNS-discovered API instances -> primary + replica, Redis, worker', () => {
  const secrets = Object.fromEntries(requiredVariables().map((v) => [v, randomBytes(24).toString('hex')]));
  const compose = loadCompose(secrets);
  const dir = mkdtempSync(join(tmpdir(), 'z2m-compose-'));
  const procs: ManagedProcess[] = [];
  const apis = new Map<string, ManagedProcess>();
  let cluster: PostgresCluster;
  let dns: TestDnsServer;
  let local: LocalCompose;
  let ports: { pg: number; replica: number; redis: number; api: number; worker: number; gateway: number };
  let gatewayUrl: string;
  let gateway: ManagedProcess;

  const apiHost = (i: number) => `127.0.0.${i + 1}`;
  const apiHealth = (i: number) => ({ from: '127.0.0.1:3000', to: `${apiHost(i)}:${ports.api}` });
  const startApi = async (i: number) => {
    const name = `api-${i}`;
    const proc = local.program('api', name, {
      HOST: apiHost(i),
      PORT: String(ports.api),
      INSTANCE_ID: name,
      TRUST_PROXY: '127.0.0.1',
    });
    procs.push(proc);
    apis.set(name, proc);
    proc.start();
    await local.waitHealthy('api', apiHealth(i), proc);
  };
  const status = async () =>
    (await (
      await fetch(`${gatewayUrl}/_gateway/status`, {
        headers: { authorization: `Bearer ${secrets.GATEWAY_ADMIN_TOKEN}` },
      })
    ).json()) as {
      upstreams: Array<{ url: string; available: boolean }>;
    };
  const availableUpstreams = async () =>
    (await status()).upstreams
      .filter((u) => u.available)
      .map((u) => u.url)
      .sort();
  const servedBy = async (n: number) => {
    const load = new Load({
      baseUrl: gatewayUrl,
      concurrency: 4,
      maxRequests: n,
      maxMs: 15_000,
      next: () => ({ op: 'read', method: 'GET', path: '/health/live' }),
    });
    await load.done;
    expect(load.failures()).toEqual([]);
    const counts: Record<string, number> = {};
    for (const r of load.results) counts[r.servedBy!] = (counts[r.servedBy!] ?? 0) + 1;
    return counts;
  };

  beforeAll(async () => {
    const [pg, replica, redis, api, worker, gatewayPort] = await Promise.all(Array.from({ length: 6 }, freePort));
    ports = { pg: pg!, replica: replica!, redis: redis!, api: api!, worker: worker!, gateway: gatewayPort! };
    local = new LocalCompose(
      compose,
      {
        'postgres-primary:5432': `127.0.0.1:${ports.pg}`,
        'postgres-replica-1:5432': `127.0.0.1:${ports.replica}`,
        'redis:6379': `127.0.0.1:${ports.redis}`,
        // The APIs and the worker purge changed pages from the gateway (EDGE_PURGE_URLS).
        'gateway:8080': `127.0.0.1:${ports.gateway}`,
      },
      join(dir, 'logs'),
    );

    // PostgreSQL primary (the harness's initdb stands in for the image's), then the compose init script on it.
    const redisProc = local.redis(ports.redis, join(dir, 'redis'));
    procs.push(redisProc);
    redisProc.start();
    cluster = await startPostgresCluster({ dir, primaryPort: ports.pg, replicaPorts: [], fast: true });
    await local.initPrimary(ports.pg, cluster.primary.options.dataDir);

    // The replica: compose's entrypoint script clones the primary with pg_basebackup, then runs compose's command.
    const replicaProc = local.replica(
      'postgres-replica-1',
      ports.replica,
      join(dir, 'pg', 'replica-1'),
      postgresServiceUser(),
    );
    procs.push(replicaProc);
    replicaProc.start();
    const appEnv = local.env('api');
    await waitForPostgres(appEnv.DB_REPLICAS!.replace(/^replica-1=/, ''), replicaProc);
    await local.waitHealthy('redis', { from: '-p 6379', to: `-p ${ports.redis}` }, redisProc, {
      REDISCLI_AUTH: secrets.REDIS_PASSWORD!,
    });

    // The migration job, with its compose command, as the application's (non-superuser) role.
    const [node, ...args] = compose.services.migrate!.command!;
    expect(node).toBe('node');
    await run(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...local.env('migrate') },
      timeout: 60_000,
    });

    dns = await startDnsServer();
    dns.set('api.test', [1, 2, 3].map(apiHost));
    const workerProc = local.program('worker', 'worker-1', {
      HOST: '127.0.0.1',
      WORKER_HTTP_PORT: String(ports.worker),
      INSTANCE_ID: 'worker-1',
    });
    procs.push(workerProc);
    workerProc.start();
    await Promise.all([
      ...[1, 2, 3].map(startApi),
      local.waitHealthy('worker', { from: '127.0.0.1:3100', to: `127.0.0.1:${ports.worker}` }, workerProc),
    ]);

    gateway = local.program('gateway', 'gateway', {
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: String(ports.gateway),
      UPSTREAM_DNS: `api.test:${ports.api}`,
      UPSTREAM_DNS_SERVERS: `127.0.0.1:${dns.port}`,
      UPSTREAM_DNS_INTERVAL_MS: '200',
      ...FAST_HEALTH,
    });
    procs.push(gateway);
    gateway.start();
    gatewayUrl = `http://127.0.0.1:${ports.gateway}`;
    await local.waitHealthy('gateway', { from: '127.0.0.1:8080', to: `127.0.0.1:${ports.gateway}` }, gateway);
    await eventually(availableUpstreams, (u) => u.length === 3, 10_000);
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop('SIGTERM', 10_000);
    await Promise.all(
      procs
        .filter((p) => p !== gateway && p.name !== 'redis' && p.name !== 'postgres-replica-1')
        .map((p) => p.stop('SIGTERM', 10_000)),
    );
    await Promise.all(
      procs.filter((p) => p.name === 'redis' || p.name === 'postgres-replica-1').map((p) => p.stop('SIGINT', 10_000)),
    );
    await cluster?.stop();
    await dns?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('streams the replica from the primary as the replication role, and the app role is no superuser', async () => {
    const superuser = `postgres://postgres@127.0.0.1:${ports.pg}/postgres`;
    const [standby] = await pgQuery(superuser, 'SELECT application_name, usename, state FROM pg_stat_replication');
    expect(standby).toEqual({ application_name: 'replica_1', usename: 'replicator', state: 'streaming' });
    const [role] = await pgQuery(superuser, "SELECT rolsuper, rolreplication FROM pg_roles WHERE rolname = 'app'");
    expect(role).toEqual({ rolsuper: false, rolreplication: false });
    const [tables] = await pgQuery<{ owner: string }>(
      local.env('api').DB_PRIMARY!,
      "SELECT tableowner AS owner FROM pg_tables WHERE tablename = 'articles'",
    );
    expect(tables).toEqual({ owner: 'app' });
  });

  it("runs Redis with compose's settings, behind its password", async () => {
    const url = local.env('api').REDIS_URL!;
    const reply = await redisCommand(url, ['CONFIG', 'GET', '*']);
    // RESP2 answers a flat list, RESP3 a map.
    const config: Record<string, string> = Array.isArray(reply)
      ? Object.fromEntries(reply.flatMap((v, i, all) => (i % 2 ? [] : [[String(v), String(all[i + 1])]])))
      : Object.fromEntries(reply instanceof Map ? reply : Object.entries(reply as object));
    const get = (k: string) => String(config[k]);
    expect([get('appendonly'), get('appendfsync'), get('maxmemory-policy'), get('maxmemory')]).toEqual([
      'yes',
      'everysec',
      'noeviction',
      String(256 * 1024 * 1024),
    ]);
    await expect(redisCommand(`redis://127.0.0.1:${ports.redis}`, ['SET', 'k', 'v'])).rejects.toThrow(/NOAUTH/);
  });

  it("passes every service's compose health check, and the API is ready on the primary and the replica", async () => {
    for (const i of [1, 2, 3]) expect(await local.healthy('api', apiHealth(i))).toBe(true);
    expect(await local.healthy('worker', { from: '127.0.0.1:3100', to: `127.0.0.1:${ports.worker}` })).toBe(true);
    expect(await local.healthy('gateway', { from: '127.0.0.1:8080', to: `127.0.0.1:${ports.gateway}` })).toBe(true);
    expect(await local.healthy('postgres-primary', { from: '-p 5432', to: `-p ${ports.pg}` })).toBe(true);
    expect(await local.healthy('postgres-replica-1', { from: '-p 5432', to: `-p ${ports.replica}` })).toBe(true);
    const ready = await (await fetch(`http://${apiHost(1)}:${ports.api}/health/ready`)).json();
    expect(ready).toMatchObject({
      status: 'ok',
      details: { 'db:primary': { status: 'up' }, 'db:replica-1': { status: 'up' } },
    });
  });

  it('spreads requests over the three instances that one DNS name resolves to', async () => {
    const counts = await servedBy(90);
    expect(Object.keys(counts).sort()).toEqual(['api-1', 'api-2', 'api-3']);
    for (const n of Object.values(counts)) expect(Math.abs(n - 30)).toBeLessThanOrEqual(3);
  });

  it('serves a signed-in user end to end: session cookie over plain http, writes, the worker renders', async () => {
    const client = new HttpClient(gatewayUrl);
    await signUpAndLogIn(client, 'Compose User');
    const created = await client.post('/articles', {
      title: 'From compose',
      body: '# Hello\n\nrendered by the worker',
    });
    expect(created.status).toBe(201);
    const article = await eventually(
      () => client.get(`/articles/${created.body.id}`),
      (r) => r.body?.render?.status === 'done',
      15_000,
    );
    expect(article.body.render.html).toContain('<h1>Hello</h1>');
    expect((await client.get('/auth/me')).status).toBe(200);
  });

  it('scales out and in by DNS alone: a fourth instance joins, a stopped one leaves without a failed request', async () => {
    const pid = gateway.pid;
    await startApi(4);
    dns.set('api.test', [1, 2, 3, 4].map(apiHost));
    await eventually(availableUpstreams, (u) => u.length === 4, 10_000);
    const counts = await servedBy(80);
    expect(Object.keys(counts).sort()).toEqual(['api-1', 'api-2', 'api-3', 'api-4']);

    // `docker compose up --scale api=3`: the container is stopped (SIGTERM, drain) and leaves the DNS answer.
    // /health/live is not rate-limited (NODE_ENV=production keeps the default limits, and every request here comes from 127.0.0.1).
    const load = new Load({
      baseUrl: gatewayUrl,
      concurrency: 4,
      maxRequests: 4000,
      maxMs: 20_000,
      pauseMs: 5,
      next: () => ({ op: 'read', method: 'GET', path: '/health/live' }),
    });
    dns.set('api.test', [2, 3, 4].map(apiHost));
    await apis.get('api-1')!.stop('SIGTERM', 15_000);
    await eventually(availableUpstreams, (u) => u.length === 3, 10_000);
    await load.stop();
    expect(load.count).toBeGreaterThan(50);
    expect(load.failures()).toEqual([]);
    expect(await availableUpstreams()).toEqual([2, 3, 4].map((i) => `http://${apiHost(i)}:${ports.api}`));
    expect(gateway.pid).toBe(pid);
  });
});
