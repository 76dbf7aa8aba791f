import type { DefaultJobOptions } from 'bullmq';
import type { AppConfig } from '../../config';

type QueueConfig = AppConfig['queue'];

/** Retry and retention policy of every job. */
export function defaultJobOptions(q: QueueConfig): DefaultJobOptions {
  return {
    attempts: q.attempts,
    // backoffMs, 2x, 4x, ... with jitter, so a burst of failures does not retry in lockstep.
    backoff: { type: 'exponential', delay: q.backoffMs, jitter: 0.25 },
    // Completed jobs stay long enough for jobId dedupe to absorb an outbox redelivery, then go (bounded by count too).
    removeOnComplete: { age: q.keepCompleted.ageSeconds, count: q.keepCompleted.count },
    // Exhausted jobs are the dead-letter set: kept, with their error, for inspection and retry.
    removeOnFail: { age: q.keepFailedSeconds },
  };
}
