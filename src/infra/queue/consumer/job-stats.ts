export type JobOutcome = 'completed' | 'retried' | 'failed' | 'requeued';

export const JOB_OUTCOMES: readonly JobOutcome[] = ['completed', 'retried', 'failed', 'requeued'];

/** Upper bounds of queue_job_duration_seconds, in seconds. */
export const DURATION_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Jobs that ended with one outcome: how many per handler result, and their durations as histogram buckets. */
export class OutcomeStats {
  readonly byResult = new Map<string, number>();
  /** Per bucket, not cumulative; the last slot counts durations above the largest bound. */
  readonly buckets = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
  sum = 0;
  count = 0;

  record(result: string, seconds: number): void {
    this.byResult.set(result, (this.byResult.get(result) ?? 0) + 1);
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    this.buckets[i]! += 1;
    this.sum += seconds;
    this.count += 1;
  }
}

/**
 * One queue's job counts as plain numbers, read by the Prometheus metrics at scrape time: prom-client's labelled
 * inc() and observe() validate and hash the labels on every call, which cost more than a short job's bookkeeping.
 */
export class QueueJobStats {
  active = 0;
  readonly outcomes: Readonly<Record<JobOutcome, OutcomeStats>> = {
    completed: new OutcomeStats(),
    retried: new OutcomeStats(),
    failed: new OutcomeStats(),
    requeued: new OutcomeStats(),
  };

  constructor(readonly queue: string) {}

  record(outcome: JobOutcome, result: string, seconds: number): void {
    this.outcomes[outcome].record(result, seconds);
  }
}
