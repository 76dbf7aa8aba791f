/**
 * npm run bench:queue — the project's consumer (QueueConsumer: payload check, log context with the request id,
 * metrics, drain support) against a bare BullMQ Worker, same no-op work, same Redis, same run. Prints jobs/s and
 * the ratio (goal >= 0.9), then enqueue-to-done latency at low load for both, then the full path an article
 * takes (API write + outbox row -> relay -> BullMQ -> worker process -> rendered) with real processes.
 */
import { Logger } from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { destination } from 'pino';
import { Logger as PinoNestLogger, PinoLogger } from 'nestjs-pino';
import { Registry } from 'prom-client';
import { loadConfig } from '../src/config';
import { ConsumerMetrics, consumerConnection, defaultJobOptions, type JobHandler, QueueConsumer } from '../src/infra/queue';
import { freePort } from '../tools/stack/ports';
import { RedisNode } from '../tools/stack/redis-node';
import { percentile as pct } from './percentile';
import { measureArticleLatency } from './queue-article-latency';

const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const LATENCY_JOBS = Number(process.env.BENCH_LATENCY_JOBS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

interface Consumer {
  readonly worker: Worker;
  close(): Promise<void>;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'z2m-bench-queue-'));
  const redis = new RedisNode({ port: await freePort(), dataDir: join(dir, 'redis'), logFile: join(dir, 'redis.log') });
  await redis.start();
  const config = loadConfig({ REDIS_URL: redis.url });
  // The project's consumer logs one JSON line per job, as in production; here to /dev/null, synchronously.
  const pino = new PinoLogger({ pinoHttp: [{ level: process.env.BENCH_LOG_LEVEL ?? 'info' }, destination({ dest: '/dev/null', sync: true })] });
  Logger.overrideLogger(new PinoNestLogger(pino, {}));
  const noop: JobHandler = { parse: (d) => d as never, handle: async () => 'ok' };
  let n = 0;
  const bare = (queue: string): Consumer => {
    const worker = new Worker(queue, async () => 'ok', { connection: consumerConnection(config.queue, 'bench-bare'), concurrency: CONCURRENCY, autorun: false });
    return { worker, close: () => worker.close() };
  };
  const project = (queue: string): Consumer => {
    const c = new QueueConsumer({
      queue,
      handler: noop,
      connection: consumerConnection(config.queue, 'bench-project'),
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

  try {
    console.log(`\nThroughput: ${JOBS} no-op jobs per run, concurrency ${CONCURRENCY}, a warm-up then ${ROUNDS} alternating rounds, Redis ${redis.url}`);
    const runs: Record<'bare' | 'project', Run[]> = { bare: [], project: [] };
    await throughput(redis.url, `bench-warmup-${n++}`, bare, config);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [label, make] of [['bare', bare], ['project', project]] as const) {
        const run = await throughput(redis.url, `bench-${label}-${n++}`, make, config);
        runs[label].push(run);
        console.log(`  round ${round + 1} ${label.padEnd(8)} ${run.rate.toFixed(0).padStart(6)} jobs/s   ${run.cpuMicros.toFixed(0).padStart(4)} µs CPU/job (this process)`);
      }
    }
    // The machine is shared: compare each round's pair (run back to back) and take the median.
    const median = (xs: number[]) => pct(xs, 50);
    const rateRatio = median(runs.project.map((p, i) => p.rate / runs.bare[i]!.rate));
    const cpuRatio = median(runs.project.map((p, i) => runs.bare[i]!.cpuMicros / p.cpuMicros));
    console.log(`  bare BullMQ Worker      median ${median(runs.bare.map((r) => r.rate)).toFixed(0)} jobs/s, ${median(runs.bare.map((r) => r.cpuMicros)).toFixed(0)} µs CPU/job`);
    console.log(`  project QueueConsumer   median ${median(runs.project.map((r) => r.rate)).toFixed(0)} jobs/s, ${median(runs.project.map((r) => r.cpuMicros)).toFixed(0)} µs CPU/job`);
    console.log(`  ratio project/bare      ${rateRatio.toFixed(2)} in jobs/s, ${cpuRatio.toFixed(2)} in CPU per job (median of paired rounds; goal >= 0.9)`);

    console.log(`\nEnqueue-to-done latency at low load (${LATENCY_JOBS} jobs, one every 20 ms):`);
    for (const [label, make] of [['bare', bare], ['project', project]] as const) {
      const ms = await latency(redis.url, `bench-latency-${label}-${n++}`, make);
      console.log(`  ${label.padEnd(8)} p50 ${pct(ms, 50).toFixed(2)} ms   p99 ${pct(ms, 99).toFixed(2)} ms`);
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

async function throughput(url: string, name: string, make: (q: string) => Consumer, config: ReturnType<typeof loadConfig>): Promise<Run> {
  const queue = new Queue(name, { connection: { url }, defaultJobOptions: defaultJobOptions(config.queue) });
  for (let i = 0; i < JOBS; i += 1000) {
    await queue.addBulk(Array.from({ length: Math.min(1000, JOBS - i) }, (_, j) => ({ name: 'noop', data: { n: i + j, requestId: `req-${i + j}` } })));
  }
  const consumer = make(name);
  let done = 0;
  const finished = new Promise<void>((resolve) => consumer.worker.on('completed', () => ++done === JOBS && resolve()));
  const started = performance.now();
  const cpu = process.cpuUsage();
  void consumer.worker.run();
  await finished;
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await consumer.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { rate: JOBS / seconds, cpuMicros: (used.user + used.system) / JOBS };
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

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
