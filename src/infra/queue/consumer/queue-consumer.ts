import { Logger } from '@nestjs/common';
import { type ConnectionOptions, type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { setMaxListeners } from 'node:events';
import { runWithMinLsn } from '../../database';
import type { JobEnvelope } from '../job-payload';
import type { ConsumerMetrics } from './consumer.metrics';
import type { JobContext, JobHandler } from './job-handler';
import type { JobOutcome, QueueJobStats } from './job-stats';

/** The abort reason a drain gives jobs still running at its deadline. */
export const SHUTDOWN_REASON = 'worker shutting down';

/** Runs `fn` with fields bound to every log line inside it (nestjs-pino's PinoLogger). */
export interface LogContext {
  runInContext<T>(fn: () => T, options?: { bindings?: Record<string, unknown> }): T;
  readonly logger: { isLevelEnabled(level: string): boolean };
}

export interface QueueConsumerOptions {
  readonly queue: string;
  readonly handler: JobHandler;
  readonly connection: ConnectionOptions;
  readonly workerName: string;
  readonly concurrency: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
  readonly metrics: ConsumerMetrics;
  readonly logContext: LogContext;
}

/**
 * One BullMQ Worker and the handler it feeds, with what every consumer needs around it: payload validation,
 * the causing request's id on every log line, metrics, the last-attempt hook, and a drain with a deadline
 * (worker.close() alone waits for active jobs forever).
 */
export class QueueConsumer {
  readonly worker: Worker;
  private readonly logger: Logger;
  private readonly stats: QueueJobStats;
  // One signal for every job, since the drain aborts them all at once; BullMQ's per-job AbortController cost 2-3 µs.
  private readonly shutdown = new AbortController();
  private requeued = 0;
  private lastError = '';

  constructor(private readonly o: QueueConsumerOptions) {
    this.logger = new Logger(`Queue:${o.queue}`);
    this.stats = o.metrics.forQueue(o.queue);
    // Each active job adds a listener (untilAborted); concurrency may exceed Node's warning threshold of 10.
    setMaxListeners(0, this.shutdown.signal);
    // Two parameters: BullMQ creates a per-job AbortController only for processors that declare a third.
    this.worker = new Worker(o.queue, (job: Job, token?: string) => this.process(job, token), {
      connection: o.connection,
      name: o.workerName,
      concurrency: o.concurrency,
      lockDuration: o.lockDurationMs,
      stalledInterval: o.stalledIntervalMs,
      maxStalledCount: o.maxStalledCount,
      autorun: false,
    });
    this.worker.on('error', (err) => this.noteError(err));
    this.worker.on('stalled', (jobId) => {
      o.metrics.stalled.inc({ queue: o.queue });
      this.logger.warn({ jobId }, 'stalled job (its worker died or hung) moved back to waiting');
    });
    o.metrics.concurrency.set({ queue: o.queue }, o.concurrency);
  }

  get queue(): string {
    return this.o.queue;
  }

  start(): void {
    this.worker.run().catch((err: Error) => this.logger.error(`worker stopped: ${err.message}`));
  }

  setConcurrency(n: number): void {
    this.worker.concurrency = n;
    this.o.metrics.concurrency.set({ queue: this.o.queue }, n);
  }

  /**
   * Stops taking jobs and waits for the active ones until `timeoutMs`; then aborts the rest, which put their
   * job back in the queue (no attempt used), so another worker runs it at once instead of after a stall.
   */
  async drain(timeoutMs: number): Promise<{ readonly requeued: number }> {
    const closed = this.worker.close();
    const inTime = await Promise.race([closed.then(() => true), delay(timeoutMs).then(() => false)]);
    if (!inTime) {
      this.shutdown.abort(SHUTDOWN_REASON);
      await closed;
    }
    return { requeued: this.requeued };
  }

  private process(job: Job, token: string | undefined): Promise<string> {
    const data = job.data as Partial<JobEnvelope> | undefined;
    const bindings = { requestId: data?.requestId, jobId: job.id, queue: this.o.queue, attempt: job.attemptsMade + 1 };
    return this.o.logContext.runInContext(() => this.run(job, token), { bindings });
  }

  private async run(job: Job, token: string | undefined): Promise<string> {
    const { handler, workerName } = this.o;
    const signal = this.shutdown.signal;
    const context: JobContext = { jobId: job.id!, attempt: job.attemptsMade + 1, worker: workerName, signal };
    const started = performance.now();
    this.stats.active += 1;
    let payload: JobEnvelope | undefined;
    try {
      payload = parseOrFail(handler, job.data);
      const parsed = payload;
      // Read-your-writes for jobs: replica reads inside the handler see at least the causing write.
      const result = await (parsed.minLsn
        ? runWithMinLsn(parsed.minLsn, () => handler.handle(parsed, context))
        : handler.handle(parsed, context));
      const durationMs = this.finish(started, 'completed', result);
      // One line per successful job is debug: at thousands of jobs/s it would cost more than a short job's work.
      // Retries, failures and requeues are warnings, and every line of a job carries its requestId.
      if (this.o.logContext.logger.isLevelEnabled('debug'))
        this.logger.debug({ result, durationMs }, `${job.name} job completed`);
      return result;
    } catch (err) {
      if (signal.aborted && signal.reason === SHUTDOWN_REASON) {
        await job.moveToWait(token);
        this.requeued += 1;
        this.logger.warn(
          { durationMs: this.finish(started, 'requeued', '') },
          `${job.name} job put back in the queue: ${SHUTDOWN_REASON}`,
        );
        // Tells BullMQ the job was moved by hand: not a failure, no attempt used.
        throw new WaitingError();
      }
      const error = err instanceof Error ? err : new Error(String(err));
      const last = error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      this.logger.warn(
        { err: error, durationMs: this.finish(started, last ? 'failed' : 'retried', '') },
        `${job.name} job ${last ? 'failed for good' : 'failed, will retry'}: ${error.message}`,
      );
      if (last && payload && handler.onExhausted) {
        await handler
          .onExhausted(payload, error, context)
          .catch((e: Error) => this.logger.error(`recording the failure failed: ${e.message}`));
      }
      throw error;
    } finally {
      this.stats.active -= 1;
    }
  }

  /** Records the outcome; returns the duration in ms for the job's log line. */
  private finish(started: number, outcome: JobOutcome, result: string): number {
    const seconds = (performance.now() - started) / 1000;
    this.stats.record(outcome, result, seconds);
    return Math.round(seconds * 1000);
  }

  private noteError(err: Error): void {
    // A Redis outage repeats the same connection error; log each distinct one once.
    if (err.message === this.lastError) return;
    this.lastError = err.message;
    this.logger.warn(`worker connection: ${err.message} (it reconnects by itself)`);
  }
}

function parseOrFail(handler: JobHandler, data: unknown): JobEnvelope {
  try {
    return handler.parse(data);
  } catch (err) {
    throw new UnrecoverableError(`malformed payload: ${(err as Error).message}`);
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
