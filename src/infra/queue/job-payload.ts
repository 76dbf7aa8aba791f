/** Fields every job payload carries, whatever its queue. */
export interface JobEnvelope {
  /** The X-Request-Id of the request that caused the job; the worker logs it on every line of the job. */
  readonly requestId?: string;
  /**
   * The primary's WAL position when the relay handed the job to the queue, after the causing write committed:
   * the worker's replica reads are at least that fresh (read-your-writes for jobs).
   */
  readonly minLsn?: string;
}
