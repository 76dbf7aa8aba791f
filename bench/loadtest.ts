/**
 * npm run loadtest — the whole stack through the gateway, with a realistic mix of requests, at rising
 * concurrency, until it saturates. For each step: throughput, latency, errors, the APIs' cache BYPASS share, and
 * the CPU each kind of process spent per request (from /proc). The saturation point is the highest throughput the
 * stack reached with p99 under the bound and no errors. The result is written to docs/capacity/loadtest.json,
 * which `npm run capacity` reads.
 *
 *   npm run loadtest
 *   LOADTEST_STEP_SECONDS=15 LOADTEST_P99_MS=250 LOADTEST_CONNECTIONS=1,2,4,8,16,32,64 npm run loadtest
 *
 * Closed loop (each connection sends its next request when the previous one is answered), not autocannon's
 * fixed rates: autocannon meets a rate by sending each second's quota at the start of the second, and the burst
 * that makes would be measured as the stack's latency.
 *
 * It starts its own `npm run stack` (the default, highly available topology: etcd x3, PostgreSQL x3 under
 * Patroni, Redis x3 under 3 Sentinels, 2 APIs, a worker, the gateway) in a temp dir, with rate limits raised past
 * what one load generator's IP sends, and stops it at the end. The load comes from autocannon, in this process.
 */
import autocannon from 'autocannon';
import { Client } from 'pg';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { statusRecords } from '../tools/stack/drills/drill-runner';
import { signUpDrillUser } from '../tools/stack/drills/mixed-load';
import { REPO_ROOT } from '../tools/stack/node-programs';
import { SUPERUSER } from '../tools/stack/postgres-node';
import { respCommand } from '../tools/stack/resp-command';
import { metricValue } from '../test/support/metrics';
import { startStackCli } from '../test/support/stack-cli';
import { cpuByGroup } from './support/proc-cpu';
import { zipfSampler } from './support/zipf';

const env = process.env;
const STEP_SECONDS = Number(env.LOADTEST_STEP_SECONDS ?? 10);
const P99_BOUND_MS = Number(env.LOADTEST_P99_MS ?? 250);
const ARTICLES = Number(env.LOADTEST_ARTICLES ?? 500);
const ZIPF_S = Number(env.LOADTEST_ZIPF_S ?? 1);
const USERS = Number(env.LOADTEST_USERS ?? 8);
const LADDER = (env.LOADTEST_CONNECTIONS ?? '1,2,4,8,16,32,64,128').split(',').map(Number);
/** The mix: shares of article reads (Zipf over ARTICLES), list pages, signed-in reads, writes. */
export const MIX = { articleRead: 0.9, listPage: 0.05, signedInRead: 0.04, write: 0.01 } as const;
const log = (line: string) => console.log(`[loadtest] ${line}`);

export interface StepResult {
  /** Connections, each with one request in flight. */
  readonly connections: number;
  readonly achieved: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly requests: number;
  readonly cache: { hit: number; miss: number; bypass: number };
  /** CPU µs per request, by process kind. */
  readonly cpuUsPerRequest: Record<string, number>;
  /** Commands the Redis master processed per request (INFO stats), all clients together. */
  readonly redisCommandsPerRequest: number;
  readonly passed: boolean;
}

async function main(): Promise<void> {
  log(`starting npm run stack (HA topology) in a temp dir ...`);
  const stack = await startStackCli({
    replicas: 2,
    apis: 2,
    topology: 'ha',
    env: {
      NODE_ENV: 'production',
      // Plain HTTP on 127.0.0.1: a Secure cookie would never come back.
      SESSION_COOKIE_SECURE: 'false',
      // One load generator is one IP; the limits stay on (they are part of every request's cost), out of reach.
      RATE_LIMIT_MAX: '1000000',
      RATE_LIMIT_AUTH_IP_MAX: '100000',
    },
  });
  try {
    const members = await statusRecords(stack.ctl);
    const gateway = members.find((m) => m.kind === 'gateway')!.address;
    const apis = members.filter((m) => m.kind === 'api').map((m) => m.address);

    log(`seeding ${USERS} users and ${ARTICLES} articles through the gateway ...`);
    const cookies = await Promise.all(Array.from({ length: USERS }, (_, i) => signUpDrillUser(gateway, `load ${i}`)));
    const ids: string[] = [];
    for (let i = 0; i < ARTICLES; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, ARTICLES - i) }, (_, k) => writeArticle(gateway, cookies[k % USERS]!, i + k)),
      );
      ids.push(...batch);
    }
    await waitForRenders(gateway, ids);

    const pickArticle = zipfSampler(ids.length, ZIPF_S);
    const mixLine = `${pct(MIX.articleRead)} article reads (Zipf s=${ZIPF_S} over ${ids.length}), ${pct(MIX.listPage)} list pages, ${pct(MIX.signedInRead)} signed-in reads (GET /auth/me, ${USERS} users), ${pct(MIX.write)} writes`;
    log(`mix: ${mixLine}`);
    log(
      `autocannon, closed loop at ${LADDER.join(', ')} connections, ${STEP_SECONDS} s each, p99 bound ${P99_BOUND_MS} ms, ${cpus().length} CPUs`,
    );
    const setupRequest = (request: Record<string, unknown>) => {
      const r = Math.random();
      const cookie = cookies[Math.floor(Math.random() * cookies.length)]!;
      if (r < MIX.articleRead) return { ...request, method: 'GET', path: `/articles/${ids[pickArticle()]}` };
      if (r < MIX.articleRead + MIX.listPage) return { ...request, method: 'GET', path: '/articles?limit=20' };
      if (r < MIX.articleRead + MIX.listPage + MIX.signedInRead)
        return { ...request, method: 'GET', path: '/auth/me', headers: { cookie } };
      return {
        ...request,
        method: 'POST',
        path: '/articles',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'load test article', body: 'written under load. '.repeat(40) }),
      };
    };

    // PostgreSQL split by role: writes land on the primary, reads on the replicas.
    const groupOf = (m: (typeof members)[number]) =>
      m.kind === 'postgres' ? (m.role === 'primary' ? 'postgres primary' : 'postgres replicas') : m.kind;
    // Patroni starts PostgreSQL detached from itself: each member's postmaster is found through a backend's parent.
    const postmasters = await Promise.all(
      members
        .filter((m) => m.kind === 'postgres')
        .map(async (m) => ({ pid: await postmasterOf(Number(m.address.split(':').pop())), group: groupOf(m) })),
    );
    const roots = members
      .flatMap((m) => (m.pid ? [{ pid: m.pid, group: groupOf(m) }] : []))
      .concat(postmasters, [{ pid: process.pid, group: 'load generator' }]);
    // A Patroni member's tree is Patroni (python) and PostgreSQL; etcd and Sentinel are HA agents as well.
    const classify = (comm: string, group: string) => {
      if (group.startsWith('postgres')) return comm === 'postgres' ? group : 'ha agents';
      return group === 'etcd' || group === 'sentinel' ? 'ha agents' : group;
    };
    const redisPorts = members.filter((m) => m.kind === 'redis').map((m) => Number(m.address.split(':').pop()));
    const redisMaster = await masterPort(redisPorts);

    log('warm-up: 10 s at 8 connections');
    await run(gateway, 8, 10, setupRequest);

    const steps: StepResult[] = [];
    for (const connections of LADDER) {
      const cacheBefore = await cacheCounts(apis);
      const redisBefore = await redisCommands(redisMaster);
      const cpuBefore = cpuByGroup(roots, classify);
      const result = await run(gateway, connections, STEP_SECONDS, setupRequest);
      const cpuAfter = cpuByGroup(roots, classify);
      const redisAfter = await redisCommands(redisMaster);
      const cacheAfter = await cacheCounts(apis);
      const requests = result.requests.total;
      const cpuUsPerRequest = Object.fromEntries(
        [...cpuAfter].map(([group, us]) => [group, Math.round((us - (cpuBefore.get(group) ?? 0)) / requests)]),
      );
      const achieved = requests / STEP_SECONDS;
      const failed = result.errors + result.timeouts + result.non2xx;
      const step: StepResult = {
        connections,
        achieved: Math.round(achieved),
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        errors: result.errors + result.timeouts,
        non2xx: result.non2xx,
        requests,
        cache: {
          hit: cacheAfter.hit - cacheBefore.hit,
          miss: cacheAfter.miss - cacheBefore.miss,
          bypass: cacheAfter.bypass - cacheBefore.bypass,
        },
        cpuUsPerRequest,
        redisCommandsPerRequest: Number(((redisAfter - redisBefore) / requests).toFixed(2)),
        passed: result.latency.p99 <= P99_BOUND_MS && failed === 0,
      };
      steps.push(step);
      const lookups = step.cache.hit + step.cache.miss + step.cache.bypass;
      log(
        `${connections} connections: ${step.achieved} req/s, p50 ${step.p50Ms} ms, p99 ${step.p99Ms} ms, ` +
          `errors ${step.errors}, non-2xx ${step.non2xx}, cache BYPASS ${pct(step.cache.bypass / Math.max(1, lookups))} ` +
          `of ${lookups} lookups (HIT ${pct(step.cache.hit / Math.max(1, lookups))}), load ${loadavg()[0]!.toFixed(2)} -> ${step.passed ? 'ok' : 'past the bound'}`,
      );
      log(
        `  CPU µs/request: ${Object.entries(cpuUsPerRequest)
          .map(([g, us]) => `${g} ${us}`)
          .join(', ')}`,
      );
      if (!step.passed && steps.filter((s) => !s.passed).length >= 2) break;
    }

    const saturation = steps
      .filter((s) => s.passed)
      .reduce<StepResult | undefined>((best, s) => (!best || s.achieved > best.achieved ? s : best), undefined);
    console.log(table(steps));
    console.log(
      saturation
        ? `saturation point: ${saturation.achieved} req/s at ${saturation.connections} connections, p99 ${saturation.p99Ms} ms (bound ${P99_BOUND_MS} ms)`
        : `no step met the bound`,
    );
    const out = join(REPO_ROOT, 'docs', 'capacity', 'loadtest.json');
    mkdirSync(join(REPO_ROOT, 'docs', 'capacity'), { recursive: true });
    writeFileSync(
      out,
      `${JSON.stringify(
        {
          measuredAt: new Date().toISOString(),
          machine: { cpus: cpus().length, node: process.version },
          topology:
            'npm run stack (HA: etcd x3, PostgreSQL x3 under Patroni, Redis x3 + 3 Sentinels, 2 APIs, 1 worker, gateway)',
          mix: { ...MIX, zipfS: ZIPF_S, articles: ids.length, users: USERS },
          p99BoundMs: P99_BOUND_MS,
          stepSeconds: STEP_SECONDS,
          saturation: saturation ? { connections: saturation.connections, achieved: saturation.achieved } : null,
          steps,
        },
        null,
        2,
      )}\n`,
    );
    log(`written to ${out}; npm run capacity reads it`);
  } finally {
    await stack.stop();
  }
}

function run(
  url: string,
  connections: number,
  seconds: number,
  setupRequest: (r: Record<string, unknown>) => Record<string, unknown>,
): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections,
    duration: seconds,
    timeout: 10,
    requests: [{ setupRequest: setupRequest as never }],
  });
}

async function writeArticle(gateway: string, cookie: string, n: number): Promise<string> {
  const res = await fetch(`${gateway}/articles`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    // About the size of a short post: 40 sentences, so a page and its rendered HTML are a few KB.
    body: JSON.stringify({ title: `Article ${n}`, body: `Sentence ${n} of a load-test article. `.repeat(40) }),
  });
  if (res.status !== 201) throw new Error(`seeding article ${n} failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/** The seeding writes queue one render job each; the measurement starts once the worker has caught up. */
async function waitForRenders(gateway: string, ids: readonly string[]): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (const id of [ids[ids.length - 1]!, ids[0]!]) {
    for (;;) {
      const article = (await fetch(`${gateway}/articles/${id}`, { headers: { 'cache-control': 'no-cache' } }).then(
        (r) => r.json(),
      )) as { render: { status: string } };
      if (article.render.status !== 'pending') break;
      if (Date.now() > deadline) throw new Error('the worker did not render the seeded articles within 5 minutes');
      await sleep(500);
    }
  }
}

/** The Redis node that answers ROLE with master (Sentinel decides which; the load test only asks). */
async function masterPort(ports: readonly number[]): Promise<number> {
  for (const port of ports) {
    const role = await respCommand(port, ['ROLE']).catch(() => null);
    if (Array.isArray(role) && role[0] === 'master') return port;
  }
  throw new Error(`no Redis master among ports ${ports.join(', ')}`);
}

/** A member's postmaster: the parent of the backend that answers this query, read while it still runs. */
async function postmasterOf(port: number): Promise<number> {
  const client = new Client({ connectionString: `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres` });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const stat = readFileSync(`/proc/${rows[0]!.pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } finally {
    await client.end();
  }
}

async function redisCommands(port: number): Promise<number> {
  const info = String(await respCommand(port, ['INFO', 'stats']));
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? NaN);
}

async function cacheCounts(apis: readonly string[]): Promise<{ hit: number; miss: number; bypass: number }> {
  const texts = await Promise.all(apis.map((a) => fetch(`${a}/metrics`).then((r) => r.text())));
  const sum = (result: string) => texts.reduce((n, t) => n + metricValue(t, 'cache_requests_total', { result }), 0);
  return { hit: sum('hit'), miss: sum('miss'), bypass: sum('bypass') };
}

function table(steps: readonly StepResult[]): string {
  const groups = [...new Set(steps.flatMap((s) => Object.keys(s.cpuUsPerRequest)))].sort();
  const head = `| connections | req/s | p50 ms | p99 ms | errors | BYPASS | ${groups.map((g) => `${g} µs`).join(' | ')} | |`;
  const rows = steps.map((s) => {
    const lookups = s.cache.hit + s.cache.miss + s.cache.bypass;
    return `| ${s.connections} | ${s.achieved} | ${s.p50Ms} | ${s.p99Ms} | ${s.errors + s.non2xx} | ${pct(s.cache.bypass / Math.max(1, lookups))} | ${groups.map((g) => s.cpuUsPerRequest[g] ?? '').join(' | ')} | ${s.passed ? 'ok' : 'past the bound'} |`;
  });
  return ['', head, `|${'---|'.repeat(groups.length + 7)}`, ...rows, ''].join('\n');
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 && x > 0 ? 2 : 1)}%`;

main().catch((err: Error) => {
  console.error(`[loadtest] ${err.stack ?? err.message}`);
  process.exit(1);
});
