import { Counter, Gauge, type Registry } from 'prom-client';
import { DURATION_BUCKETS, JOB_OUTCOMES, QueueJobStats } from './job-stats';
import { type HistogramSeries, ScrapeTimeHistogram } from './scrape-time-histogram';

export type { JobOutcome } from './job-stats';

/**
 * What this worker process did: jobs by outcome, how long they took, how busy it is. The per-job numbers live in
 * plain counters (QueueJobStats) and become samples at scrape time, as db_queries_total does.
 */
export class ConsumerMetrics {
  readonly concurrency: Gauge<'queue'>;
  readonly stalled: Counter<'queue'>;
  private readonly queues = new Map<string, QueueJobStats>();

  constructor(registry: Registry) {
    const registers = [registry];
    const queues = this.queues;
    new Counter({
      name: 'queue_jobs_processed_total',
      help: 'Jobs this worker finished, by outcome (completed, retried, failed, requeued) and handler result',
      labelNames: ['queue', 'outcome', 'result'],
      registers,
      collect() {
        this.reset();
        for (const q of queues.values()) {
          for (const outcome of JOB_OUTCOMES) {
            for (const [result, n] of q.outcomes[outcome].byResult) this.inc({ queue: q.queue, outcome, result }, n);
          }
        }
      },
    });
    new ScrapeTimeHistogram(
      'queue_job_duration_seconds',
      'Time from a job becoming active on this worker to its outcome',
      DURATION_BUCKETS,
      () => durationSeries(queues.values()),
      registry,
    );
    new Gauge({
      name: 'queue_jobs_active',
      help: 'Jobs this worker is processing now',
      labelNames: ['queue'],
      registers,
      collect() {
        this.reset();
        for (const q of queues.values()) this.set({ queue: q.queue }, q.active);
      },
    });
    this.concurrency = new Gauge({
      name: 'queue_worker_concurrency',
      help: 'Jobs this worker may process at once',
      labelNames: ['queue'],
      registers,
    });
    this.stalled = new Counter({
      name: 'queue_jobs_stalled_total',
      help: 'Stalled jobs (lock lost, e.g. a killed worker) this worker moved back to waiting',
      labelNames: ['queue'],
      registers,
    });
  }

  /** The counters a consumer updates per job; one set per queue, shared by every consumer of it. */
  forQueue(queue: string): QueueJobStats {
    let stats = this.queues.get(queue);
    if (!stats) this.queues.set(queue, (stats = new QueueJobStats(queue)));
    return stats;
  }
}

function* durationSeries(queues: Iterable<QueueJobStats>): Iterable<HistogramSeries> {
  for (const q of queues) {
    for (const outcome of JOB_OUTCOMES) {
      const s = q.outcomes[outcome];
      if (s.count > 0) yield { labels: { queue: q.queue, outcome }, buckets: s.buckets, sum: s.sum, count: s.count };
    }
  }
}
