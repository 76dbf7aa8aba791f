import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type JobOutcome = 'completed' | 'retried' | 'failed' | 'requeued';

/** What this worker process did: jobs by outcome, how long they took, how busy it is. */
export class ConsumerMetrics {
  readonly processed: Counter<'queue' | 'outcome' | 'result'>;
  readonly duration: Histogram<'queue' | 'outcome'>;
  readonly active: Gauge<'queue'>;
  readonly concurrency: Gauge<'queue'>;
  readonly stalled: Counter<'queue'>;
  // Label lookups hash their label object on every call; a job's outcome is one of a few, so keep the children.
  private readonly children = new Map<string, { processed: ReturnType<Counter['labels']>; duration: ReturnType<Histogram['labels']> }>();

  constructor(registry: Registry) {
    this.processed = new Counter({
      name: 'queue_jobs_processed_total',
      help: 'Jobs this worker finished, by outcome (completed, retried, failed, requeued) and handler result',
      labelNames: ['queue', 'outcome', 'result'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'queue_job_duration_seconds',
      help: 'Time from a job becoming active on this worker to its outcome',
      labelNames: ['queue', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.active = new Gauge({ name: 'queue_jobs_active', help: 'Jobs this worker is processing now', labelNames: ['queue'], registers: [registry] });
    this.concurrency = new Gauge({ name: 'queue_worker_concurrency', help: 'Jobs this worker may process at once', labelNames: ['queue'], registers: [registry] });
    this.stalled = new Counter({
      name: 'queue_jobs_stalled_total',
      help: 'Stalled jobs (lock lost, e.g. a killed worker) this worker moved back to waiting',
      labelNames: ['queue'],
      registers: [registry],
    });
  }

  recordOutcome(queue: string, outcome: JobOutcome, result: string, seconds: number): void {
    const key = `${queue}\0${outcome}\0${result}`;
    let child = this.children.get(key);
    if (!child) {
      child = { processed: this.processed.labels({ queue, outcome, result }), duration: this.duration.labels({ queue, outcome }) };
      this.children.set(key, child);
    }
    child.processed.inc();
    child.duration.observe(seconds);
  }
}
