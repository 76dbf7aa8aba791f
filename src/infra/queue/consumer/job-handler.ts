import type { JobEnvelope } from '../job-payload';

export interface JobContext {
  readonly jobId: string;
  /** 1 on the first attempt. */
  readonly attempt: number;
  /** This worker's name (INSTANCE_ID), for records of who applied an effect. */
  readonly worker: string;
  /**
   * Aborted when a shutdown deadline passes: stop before committing, and the job goes back to the queue.
   * One signal serves all of the consumer's jobs, so remove any listener you add (untilAborted does).
   */
  readonly signal: AbortSignal;
}

/**
 * What a feature module implements to consume a queue. Delivery is at-least-once, so `handle` must be
 * idempotent: running it twice for the same payload must leave the same result.
 */
export interface JobHandler<T extends JobEnvelope = JobEnvelope> {
  /** Validates the payload; throw to fail the job at once, since retrying a malformed payload cannot help. */
  parse(data: unknown): T;
  /** Does the work; returns a short word for logs and metrics (e.g. 'rendered', 'stale'). */
  handle(data: T, context: JobContext): Promise<string>;
  /** Called once, when the last attempt failed, to record the failure where users see it. */
  onExhausted?(data: T, error: Error, context: JobContext): Promise<void>;
}

/** Resolves or rejects with `work`, or rejects as soon as `signal` aborts, whichever comes first. */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  // The work may still settle after the abort; its outcome then belongs to nobody and must not become unhandled.
  work.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
