/**
 * npm run bench:queue — the project's consumer (QueueConsumer: payload check, log context with the request id,
 * metrics, drain support) against a bare BullMQ Worker, same no-op work, same Redis, same run. Prints jobs/s and
 * the ratio (goal >= 0.9), then enqueue-to-done latency at low load for both, then the full path an article
 * takes (API write + outbox row -> relay -> BullMQ -> worker process -> rendered) with real processes.
 *
 * Each throughput run is its own process (this file with BENCH_QUEUE_CHILD=<side>) that warms up first: in a
 * shared process the project's AsyncLocalStorage, once enabled, taxes every promise of the bare side too. A third
 * side, a bare Worker in a process with an AsyncLocalStorage enabled, splits the gap into that tax (Node 20's
 * async_hooks; the per-job log context needs it) and the consumer's own work.
 */
import { Logger } from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import { AsyncLocalStorage } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { destination } from 'pino';
import { Logger as PinoNestLogger, PinoLogger } from 'nestjs-pino';
import { Registry } from 'prom-client';
import { loadConfig } from '../src/config';
import { ConsumerMetrics, defaultJobOptions, type JobHandler, QueueConsumer } from '../src/infra/queue';
import { RedisConnections } from '../src/infra/redis';
import { freePort } from '../tools/stack/ports';
import { RedisNode } from '../tools/stack/redis-node';
import { percentile as pct } from './percentile';
import { measureArticleLatency } from './queue-article-latency';

const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const LATENCY_JOBS = Number(process.env.BENCH_LATENCY_JOBS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP_JOBS = Number(process.env.BENCH_WARMUP_JOBS ?? 20_000);
const SIDES = ['bare', 'bare+als', 'project'] as const;
type Side = (typeof SIDES)[number];

const processWideStorage = new AsyncLocalStorage<object>();

interface Consumer {
  readonly worker: Worker;
  close(): Promise<void>;
}

/** The consumers under test, built the same way for the throughput children and the latency runs. */
function consumers(redisUrl: string): {
  config: ReturnType<typeof loadConfig>;
  make: Record<Side, (queue: string) => Consumer>;
} {
  const config = loadConfig({ REDIS_URL: redisUrl });
  const redis = new RedisConnections(config);
  // The project's consumer logs through pino as in production (the completion line is debug); to /dev/null, synchronously.
  const pino = new PinoLogger({
    pinoHttp: [{ level: process.env.BENCH_LOG_LEVEL ?? 'info' }, destination({ dest: '/dev/null', sync: true })],
  });
  Logger.overrideLogger(new PinoNestLogger(pino, {}));
  const noop: JobHandler = { parse: (d) => d as never, handle: async () => 'ok' };
  const bare = (queue: string): Consumer => {
    const worker = new Worker(queue, async () => 'ok', {
      connection: redis.bullmqOptions('worker', 'bench-bare'),
      concurrency: CONCURRENCY,
      autorun: false,
    });
    return { worker, close: () => worker.close() };
  };
  const project = (queue: string): Consumer => {
    const c = new QueueConsumer({
      queue,
      handler: noop,
      connection: redis.bullmqOptions('worker', 'bench-project'),
      workerName: 'bench',
      concurrency: CONCURRENCY,
      lockDurationMs: config.queue.lockDurationMs,
      stalledIntervalMs: config.queue.stalledIntervalMs,
      maxStalledCount: config.queue.maxStalledCount,
      metrics: new ConsumerMetrics(new Registry()),
      logContext: pino,
    });
    return { worker: c.worker, close: () => c.worker.close() };
  };
  const bareWithAls = (queue: string): Consumer => {
    // One storage enabled for the whole process, as the project's log context enables nestjs-pino's; no job uses it.
    processWideStorage.enterWith({});
    return bare(queue);
  };
  return { config, make: { bare, 'bare+als': bareWithAls, project } };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'z2m-bench-queue-'));
  const redis = new RedisNode({ port: await freePort(), dataDir: join(dir, 'redis'), logFile: join(dir, 'redis.log') });
  await redis.start();
  let n = 0;

  try {
    console.log(
      `\nThroughput: ${JOBS} no-op jobs per run, concurrency ${CONCURRENCY}, ${ROUNDS} rounds of one fresh process per side ` +
        `(${WARMUP_JOBS} warm-up jobs each, order rotating), Redis ${redis.url}`,
    );
    const runs: Record<Side, Run[]> = { bare: [], 'bare+als': [], project: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = SIDES.map((_, i) => SIDES[(i + round) % SIDES.length]!);
      for (const side of order) {
        const run = await throughputInChild(side, redis.url, `bench-${side.replace('+', '-')}-${n++}`);
        runs[side].push(run);
        console.log(
          `  round ${round + 1} ${side.padEnd(8)} ${run.rate.toFixed(0).padStart(6)} jobs/s   ${run.cpuMicros.toFixed(1).padStart(5)} µs CPU/job (consumer process)`,
        );
      }
    }
    // The machine is shared: compare the runs of each round (back to back) and take the median.
    const median = (xs: number[]) => pct(xs, 50);
    const perRound = (f: (i: number) => number) => median(runs.project.map((_, i) => f(i)));
    const cpu = (side: Side, i: number) => runs[side][i]!.cpuMicros;
    const rateRatio = perRound((i) => runs.project[i]!.rate / runs.bare[i]!.rate);
    const cpuRatio = perRound((i) => cpu('bare', i) / cpu('project', i));
    for (const [side, label] of [
      ['bare', 'bare BullMQ Worker'],
      ['bare+als', 'bare, AsyncLocalStorage on'],
      ['project', 'project QueueConsumer'],
    ] as const) {
      console.log(
        `  ${label.padEnd(27)} median ${median(runs[side].map((r) => r.rate)).toFixed(0)} jobs/s, ${median(runs[side].map((r) => r.cpuMicros)).toFixed(1)} µs CPU/job`,
      );
    }
    console.log(
      `  ratio project/bare          ${rateRatio.toFixed(2)} in jobs/s, ${cpuRatio.toFixed(2)} in CPU per job (median of paired rounds; goal >= 0.9)`,
    );
    console.log(
      `  the gap in CPU per job      ${perRound((i) => cpu('project', i) - cpu('bare', i)).toFixed(1)} µs: ` +
        `${perRound((i) => cpu('bare+als', i) - cpu('bare', i)).toFixed(1)} µs AsyncLocalStorage on every promise, ` +
        `${perRound((i) => cpu('project', i) - cpu('bare+als', i)).toFixed(1)} µs the consumer's own (medians per round)`,
    );

    console.log(`\nEnqueue-to-done latency at low load (${LATENCY_JOBS} jobs, one every 20 ms):`);
    const { make } = consumers(redis.url);
    for (const side of ['bare', 'project'] as const) {
      const ms = await latency(redis.url, `bench-latency-${side}-${n++}`, make[side]);
      console.log(`  ${side.padEnd(8)} p50 ${pct(ms, 50).toFixed(2)} ms   p99 ${pct(ms, 99).toFixed(2)} ms`);
    }
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  if (process.env.BENCH_SKIP_ARTICLES !== '1') await measureArticleLatency();
}

interface Run {
  readonly rate: number;
  readonly cpuMicros: number;
}

/** Runs one side's warm-up and measured run in a process of its own; the CPU counted is that process's. */
function throughputInChild(side: Side, url: string, name: string): Promise<Run> {
  const env = { ...process.env, BENCH_QUEUE_CHILD: side, BENCH_REDIS_URL: url, BENCH_QUEUE_NAME: name };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...process.execArgv, process.argv[1]!], { env }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${side} run failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Run);
    });
  });
}

async function child(side: Side): Promise<void> {
  const url = process.env.BENCH_REDIS_URL!;
  const name = process.env.BENCH_QUEUE_NAME!;
  const { config, make } = consumers(url);
  // The same code path first, so the measured run meets warm JIT code and an enabled AsyncLocalStorage, as a long-running worker does.
  await throughput(url, `${name}-warmup`, make[side], config, WARMUP_JOBS);
  console.log(JSON.stringify(await throughput(url, name, make[side], config, JOBS)));
}

async function throughput(
  url: string,
  name: string,
  make: (q: string) => Consumer,
  config: ReturnType<typeof loadConfig>,
  jobs: number,
): Promise<Run> {
  const queue = new Queue(name, { connection: { url }, defaultJobOptions: defaultJobOptions(config.queue) });
  for (let i = 0; i < jobs; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, jobs - i) }, (_, j) => ({
        name: 'noop',
        data: { n: i + j, requestId: `req-${i + j}` },
      })),
    );
  }
  const consumer = make(name);
  let done = 0;
  const finished = new Promise<void>((resolve) => consumer.worker.on('completed', () => ++done === jobs && resolve()));
  const started = performance.now();
  const cpu = process.cpuUsage();
  void consumer.worker.run();
  await finished;
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await consumer.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { rate: jobs / seconds, cpuMicros: (used.user + used.system) / jobs };
}

async function latency(url: string, name: string, make: (q: string) => Consumer): Promise<number[]> {
  const queue = new Queue(name, { connection: { url } });
  const consumer = make(name);
  const waiting = new Map<string, (t: number) => void>();
  consumer.worker.on('completed', (job) => waiting.get(job.id!)?.(performance.now()));
  void consumer.worker.run();
  await consumer.worker.waitUntilReady();
  await sleep(200);
  const samples: number[] = [];
  for (let i = 0; i < LATENCY_JOBS; i++) {
    const id = `job-${i}`;
    const done = new Promise<number>((resolve) => waiting.set(id, resolve));
    const t0 = performance.now();
    await queue.add('noop', { requestId: id }, { jobId: id });
    samples.push((await done) - t0);
    await sleep(20);
  }
  await consumer.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return samples;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const side = process.env.BENCH_QUEUE_CHILD as Side | undefined;
(side ? child(side) : main()).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
