/**
 * npm run bench:cache — GET /articles/:id on a cache hit against a bare Nest-on-Fastify handler that returns
 * the same JSON (bench/bare-nest-handler.ts), in one run, with the same wrk settings, in rotating rounds.
 *
 *   npm run bench:cache
 *   BENCH_ROUNDS=7 BENCH_DURATION=10s BENCH_CONNECTIONS=32 npm run bench:cache
 *
 * Real infrastructure from the e2e harness (test/support/infra.ts: PostgreSQL primary + 1 streaming replica
 * and Redis, on private ports) and one API instance, `node dist/main.js` as deployed (NODE_ENV=production,
 * request logging at LOG_LEVEL, helmet, sessions, metrics and the Redis rate limiter on, with a limit no
 * single-IP benchmark reaches). Subjects:
 *   - bare:      the reference, the floor of Nest on Fastify for this JSON;
 *   - hit:       the API, one warmed article: every request is a HIT (one Redis MGET, the body replayed as is);
 *   - miss:      the same API instance, every request a different article whose entry is absent: lookup, lease,
 *                load from the replica, store (the cache's entries for these ids are deleted before each round);
 *   - cache off: a second API instance with CACHE_ENABLED=false, the warmed article: the database every time;
 *   - bare + pg: the bare handler reading that article from the same replica on every request, one `pg` pool
 *                query and the API's DTO: the reference for the cache-off row.
 * Each row reports its median round; ratios are taken within each round and their median is reported,
 * since load on a shared machine drifts by a factor of two within a minute. CPU µs/req is the server
 * process's user + system time per request (from /proc), the steadier number on a busy machine.
 * BENCH_CPU_PROF=<dir> then profiles a fresh API instance (`node --cpu-prof`) under the hit load and prints
 * where its CPU goes, by component (bench/support/cpu-profile-breakdown.ts); the profile stays in <dir>.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { ManagedProcess } from '../tools/stack/managed-process';
import { DIST, ensureBuilt, REPO_ROOT, waitForHttp } from '../tools/stack/node-programs';
import { freePort } from '../tools/stack/ports';
import { startInfra, type TestInfra } from '../test/support/infra';
import { metricValue } from '../test/support/metrics';
import { forgetMissEntries, HOT_ID, missLua, seed } from './support/cache-bench-articles';
import { API_COMPONENTS, type Measured, pct, report } from './support/cache-bench-report';
import { cpuProfileBreakdown } from './support/cpu-profile-breakdown';
import { cpuTimeMs, ensureWrk, parseWrk } from './support/tools';

const run = promisify(execFile);
const env = process.env;
const DURATION = env.BENCH_DURATION ?? '8s';
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 64);
const THREADS = Number(env.BENCH_THREADS ?? 1);
const ROUNDS = Number(env.BENCH_ROUNDS ?? 5);
const WARMUP = env.BENCH_WARMUP ?? '5s';
// Distinct articles for the miss rounds; a round that asks for more wraps around and reports its hits.
const MISS_ROWS = Number(env.BENCH_MISS_ROWS ?? 60_000);
const LOG_LEVEL = env.BENCH_LOG_LEVEL ?? 'info';
// The API's Redis rate limiter runs on every request as deployed; `off` shows what it costs.
const RATE_LIMIT = env.BENCH_RATE_LIMIT ?? 'on';
const CPU_PROF = env.BENCH_CPU_PROF;
const log = (line: string) => console.log(`[bench] ${line}`);

interface Subject {
  readonly name: string;
  readonly url: string;
  readonly pid: () => number;
  /** wrk -s script (the miss rounds walk distinct ids). */
  readonly script?: string;
  /** The API whose cache counters tell this round's real mix of HIT/MISS/BYPASS. */
  readonly metricsUrl?: string;
  readonly before?: () => Promise<void>;
}

async function main(): Promise<void> {
  await ensureBuilt(log);
  const wrk = ensureWrk(log);
  const dir = mkdtempSync(join(tmpdir(), 'z2m-bench-cache-'));
  const processes: ManagedProcess[] = [];
  let infra: TestInfra | undefined;
  let redis: Redis | undefined;
  try {
    log(`starting PostgreSQL primary + 1 replica and Redis (test/support/infra.ts) ...`);
    infra = await startInfra({ replicas: 1 });
    await seed(infra, MISS_ROWS, log);

    const [apiPort, offPort, barePort, bareCachePort, barePgPort] = (await Promise.all(
      Array.from({ length: 5 }, () => freePort()),
    )) as [number, number, number, number, number];
    const api = (name: string, port: number, extra: Record<string, string> = {}, nodeArgs: string[] = []) => {
      const p = new ManagedProcess({
        name,
        command: process.execPath,
        args: [...nodeArgs, join(DIST, 'main.js')],
        env: {
          ...env,
          ...infra!.env,
          NODE_ENV: 'production',
          LOG_LEVEL,
          RATE_LIMIT_ENABLED: String(RATE_LIMIT !== 'off'),
          HOST: '127.0.0.1',
          PORT: String(port),
          INSTANCE_ID: name,
          ...extra,
        },
        cwd: REPO_ROOT,
        logFile: join(dir, `${name}.log`),
      });
      p.start();
      processes.push(p);
      return p;
    };
    const apiProc = api('api', apiPort);
    const offProc = api('api-cache-off', offPort, { CACHE_ENABLED: 'false' });
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const offUrl = `http://127.0.0.1:${offPort}`;
    await Promise.all([waitForHttp(`${apiUrl}/health/ready`, apiProc), waitForHttp(`${offUrl}/health/ready`, offProc)]);

    const hotPath = `/articles/${HOT_ID}`;
    const first = await fetch(`${apiUrl}${hotPath}`);
    const hit = await fetch(`${apiUrl}${hotPath}`);
    const hitBody = await hit.text();
    await first.text();
    if (first.headers.get('x-cache') !== 'MISS' || hit.headers.get('x-cache') !== 'HIT') {
      throw new Error(`expected MISS then HIT, got ${first.headers.get('x-cache')} then ${hit.headers.get('x-cache')}`);
    }
    const articleFile = join(dir, 'article.json');
    writeFileSync(articleFile, hitBody);
    const bareProcess = (name: string, port: number, ...extra: string[]) => {
      const p = new ManagedProcess({
        name,
        command: process.execPath,
        args: [
          '--import',
          'tsx',
          join(REPO_ROOT, 'bench', 'bare-nest-handler.ts'),
          String(port),
          articleFile,
          ...extra,
        ],
        env: { ...env, NODE_ENV: 'production' },
        cwd: REPO_ROOT,
        logFile: join(dir, `${name}.log`),
      });
      p.start();
      processes.push(p);
      return p;
    };
    const bare = bareProcess('bare-nest', barePort);
    const bareCache = bareProcess('bare-nest-cache', bareCachePort, infra.redis.url);
    // The replica the cache-off instance reads from (the bench's infra has one).
    const barePg = bareProcess('bare-nest-pg', barePgPort, '--pg', infra.cluster.replicas[0]!.url());
    const bareUrl = `http://127.0.0.1:${barePort}`;
    const bareCacheUrl = `http://127.0.0.1:${bareCachePort}`;
    const barePgUrl = `http://127.0.0.1:${barePgPort}`;
    await Promise.all([
      waitForHttp(`${bareUrl}${hotPath}`, bare),
      waitForHttp(`${bareCacheUrl}${hotPath}`, bareCache),
      waitForHttp(`${barePgUrl}${hotPath}`, barePg),
    ]);
    const others = await Promise.all([bareUrl, bareCacheUrl, offUrl, barePgUrl].map((u) => fetch(`${u}${hotPath}`)));
    const bodies = await Promise.all(others.map((r) => r.text()));
    if (bodies.some((b) => b !== hitBody))
      throw new Error('the bare handlers, the cache hit and the cache-off instance must return the same bytes');
    if (others[1]!.headers.get('x-cache') !== 'HIT')
      throw new Error(`bare + @CacheAside answered X-Cache ${others[1]!.headers.get('x-cache')}, not HIT`);
    log(`article JSON: ${Buffer.byteLength(hitBody)} bytes, the same from every server`);

    const cacheRedis = new Redis(infra.redis.url);
    redis = cacheRedis;
    const missScript = join(dir, 'miss.lua');
    writeFileSync(missScript, missLua(THREADS, MISS_ROWS));
    const subjects: Subject[] = [
      { name: 'bare Nest + Fastify handler', url: `${bareUrl}${hotPath}`, pid: () => bare.pid! },
      {
        name: 'bare handler + @CacheAside, hit',
        url: `${bareCacheUrl}${hotPath}`,
        pid: () => bareCache.pid!,
        // The entry is the API's; after its TTL this first request refills it (from the handler's object).
        before: async () => void (await fetch(`${bareCacheUrl}${hotPath}`).then((r) => r.text())),
      },
      {
        name: 'API, cache hit',
        url: `${apiUrl}${hotPath}`,
        pid: () => apiProc.pid!,
        metricsUrl: apiUrl,
        // Re-warm: a miss round's deletions never touch it, but its TTL may have run out since the last round.
        before: async () => void (await fetch(`${apiUrl}${hotPath}`).then((r) => r.text())),
      },
      {
        name: 'API, cache miss (lease, replica load, store)',
        url: apiUrl,
        script: missScript,
        pid: () => apiProc.pid!,
        metricsUrl: apiUrl,
        before: () => forgetMissEntries(cacheRedis),
      },
      { name: 'API, CACHE_ENABLED=false (database every time)', url: `${offUrl}${hotPath}`, pid: () => offProc.pid! },
      { name: 'bare handler + one pg read (same replica)', url: `${barePgUrl}${hotPath}`, pid: () => barePg.pid! },
    ];

    log(
      `wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION} --latency, ${ROUNDS} rotating rounds, ${cpus().length} CPUs, API LOG_LEVEL=${LOG_LEVEL}, rate limiter ${RATE_LIMIT}`,
    );
    log(
      `load average at start: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    for (const s of subjects) {
      await s.before?.();
      // Warm-up at the measured load (JIT, pools, the event loop's batching): with 2 s at 16 connections, the API's
      // first measured round still ran about 50 % slower than its later ones.
      await run(wrk, ['-t1', `-c${CONNECTIONS}`, `-d${WARMUP}`, ...(s.script ? ['-s', s.script] : []), s.url]);
    }
    const rounds = new Map<string, Measured[]>(subjects.map((s) => [s.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < subjects.length; k++) {
        const s = subjects[(r + k) % subjects.length]!;
        const result = await measure(wrk, s);
        rounds.get(s.name)!.push(result);
        const mix = result.mix
          ? `, HIT ${pct(result.mix.hit)} MISS ${pct(result.mix.miss)} BYPASS ${pct(result.mix.bypass)}`
          : '';
        log(
          `round ${r + 1} ${s.name}: ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ` +
            `${result.cpuUsPerRequest.toFixed(0)} µs CPU/req, errors ${result.errors}${mix}`,
        );
      }
    }
    log(
      `load average at end: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    report(subjects, rounds);
    if (CPU_PROF)
      await profileHits(
        wrk,
        (port) => api('api-profiled', port, {}, ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`]),
        hotPath,
      );
  } finally {
    if (redis) await redis.quit().catch(() => redis?.disconnect());
    await Promise.all(processes.reverse().map((p) => p.stop('SIGTERM', 15_000)));
    await infra?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function cacheCounts(apiUrl: string): Promise<{ hit: number; miss: number; bypass: number }> {
  const text = await fetch(`${apiUrl}/metrics`).then((r) => r.text());
  const of = (result: string) => metricValue(text, 'cache_requests_total', { result });
  return { hit: of('hit'), miss: of('miss'), bypass: of('bypass') };
}

async function measure(wrk: string, s: Subject): Promise<Measured> {
  await s.before?.();
  const countsBefore = s.metricsUrl ? await cacheCounts(s.metricsUrl) : undefined;
  const cpuBefore = cpuTimeMs(s.pid());
  const { stdout } = await run(wrk, [
    `-t${THREADS}`,
    `-c${CONNECTIONS}`,
    `-d${DURATION}`,
    '--latency',
    ...(s.script ? ['-s', s.script] : []),
    s.url,
  ]);
  const cpuMs = cpuTimeMs(s.pid()) - cpuBefore;
  const result = parseWrk(stdout);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? NaN);
  let mix: Measured['mix'];
  if (countsBefore) {
    const after = await cacheCounts(s.metricsUrl!);
    mix = {
      hit: (after.hit - countsBefore.hit) / requests,
      miss: (after.miss - countsBefore.miss) / requests,
      bypass: (after.bypass - countsBefore.bypass) / requests,
    };
  }
  return { ...result, requests, cpuUsPerRequest: (cpuMs * 1000) / requests, mix };
}

/** A fresh API instance under --cpu-prof, driven with the hit load for one BENCH_DURATION, then stopped so V8 writes the profile. */
async function profileHits(wrk: string, start: (port: number) => ManagedProcess, hotPath: string): Promise<void> {
  mkdirSync(CPU_PROF!, { recursive: true });
  const before = new Set(readdirSync(CPU_PROF!));
  const port = await freePort();
  const proc = start(port);
  const url = `http://127.0.0.1:${port}${hotPath}`;
  await waitForHttp(`http://127.0.0.1:${port}/health/ready`, proc);
  await fetch(url).then((r) => r.text());
  await run(wrk, ['-t1', `-c${CONNECTIONS}`, `-d${WARMUP}`, url]);
  const { stdout } = await run(wrk, [`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${DURATION}`, '--latency', url]);
  await proc.stop('SIGTERM', 15_000);
  const file = readdirSync(CPU_PROF!).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
  if (!file) throw new Error(`no .cpuprofile written to ${CPU_PROF}`);
  console.log(
    `CPU profile of an API instance serving hits (${parseWrk(stdout).requestsPerSecond.toFixed(0)} req/s under --cpu-prof): ${join(CPU_PROF!, file)}`,
  );
  console.log('share of busy CPU (idle and startup left out), by component:');
  for (const { name, share } of cpuProfileBreakdown(join(CPU_PROF!, file), API_COMPONENTS))
    console.log(`  ${pct(share).padStart(6)}  ${name}`);
}

main().catch((err: Error) => {
  console.error(`[bench] ${err.stack ?? err.message}`);
  process.exit(1);
});
