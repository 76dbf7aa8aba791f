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

const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const LATENCY_JOBS = Number(process.env.BENCH_LATENCY_JOBS ?? 300);
const ROUNDS = 2;

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
  const pino = new PinoLogger({ pinoHttp: [{ level: 'info' }, destination({ dest: '/dev/null', sync: true })] });
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
    console.log(`\nThroughput: ${JOBS} no-op jobs per run, concurrency ${CONCURRENCY}, ${ROUNDS} alternating rounds, Redis ${redis.url}`);
    const rates: Record<'bare' | 'project', number[]> = { bare: [], project: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [label, make] of [['bare', bare], ['project', project]] as const) {
        const rate = await throughput(redis.url, `bench-${label}-${n++}`, make, config);
        rates[label].push(rate);
        console.log(`  round ${round + 1} ${label.padEnd(8)} ${rate.toFixed(0)} jobs/s`);
      }
    }
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`  bare BullMQ Worker      ${avg(rates.bare).toFixed(0)} jobs/s`);
    console.log(`  project QueueConsumer   ${avg(rates.project).toFixed(0)} jobs/s`);
    console.log(`  ratio project/bare      ${(avg(rates.project) / avg(rates.bare)).toFixed(2)} (goal >= 0.9)`);

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

async function throughput(url: string, name: string, make: (q: string) => Consumer, config: ReturnType<typeof loadConfig>): Promise<number> {
  const queue = new Queue(name, { connection: { url }, defaultJobOptions: defaultJobOptions(config.queue) });
  for (let i = 0; i < JOBS; i += 1000) {
    await queue.addBulk(Array.from({ length: Math.min(1000, JOBS - i) }, (_, j) => ({ name: 'noop', data: { n: i + j, requestId: `req-${i + j}` } })));
  }
  const consumer = make(name);
  let done = 0;
  const finished = new Promise<void>((resolve) => consumer.worker.on('completed', () => ++done === JOBS && resolve()));
  const started = performance.now();
  void consumer.worker.run();
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await consumer.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return JOBS / seconds;
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
