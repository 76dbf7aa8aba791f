import { Logger } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import type { QueueRegistry } from '../queue-registry';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

/**
 * Queue-wide depth and age, read from Redis at scrape time: the signal a KEDA or HPA scaler acts on
 * (e.g. scale workers on `queue_jobs{state="waiting"}` or on the oldest job's age). Every process reports the
 * same queue-wide numbers, so aggregate with max(), not sum(). While Redis is down the series are absent.
 */
export function registerQueueDepthMetrics(registry: Registry, queues: QueueRegistry, timeoutMs: number): void {
  const logger = new Logger('QueueDepthMetrics');
  const bounded = <T>(work: Promise<T>): Promise<T> =>
    Promise.race([
      work,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);

  new Gauge({
    name: 'queue_jobs',
    help: 'Jobs in each queue by state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of queues.all()) {
        try {
          const counts = await bounded(queue.getJobCounts(...STATES));
          for (const state of STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
        } catch (err) {
          logger.debug(`depth of ${queue.name} unavailable: ${(err as Error).message}`);
        }
      }
    },
  });

  new Gauge({
    name: 'queue_oldest_waiting_job_age_seconds',
    help: 'How long the oldest waiting job has waited (0 when none waits)',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of queues.all()) {
        try {
          // Ascending from the tail of the wait list: the job that has waited longest.
          const [oldest] = await bounded(queue.getJobs(['wait'], 0, 0, true));
          this.set({ queue: queue.name }, oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0);
        } catch {
          // absent while Redis is unreachable
        }
      }
    },
  });
}
