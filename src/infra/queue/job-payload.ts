/** Fields every job payload carries, whatever its queue. */
export interface JobEnvelope {
  /** The X-Request-Id of the request that caused the job; the worker logs it on every line of the job. */
  readonly requestId?: string;
  /** The primary's WAL LSN after the causing write, for read-your-writes on a replica (not used yet: the worker reads the primary). */
  readonly minLsn?: string;
}
