import type { JobEnvelope } from '../job-payload';
import type { QueueName } from '../queue-names';

/** A job to enqueue once the surrounding transaction commits. `data` is stored as is and becomes the job's payload. */
export interface OutboxMessage<T extends JobEnvelope = JobEnvelope> {
  readonly queue: QueueName;
  readonly name: string;
  readonly data: T;
}

/** A claimed outbox row, as the relay reads it. */
export interface OutboxRow {
  readonly id: string;
  readonly queue: string;
  readonly job_name: string;
  readonly payload: JobEnvelope;
}

/** Set on a transaction's QueryRunner when it wrote to the outbox, so its commit can wake the relay. */
export const OUTBOX_WRITTEN = 'outboxWritten';
