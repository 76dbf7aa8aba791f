/** Thrown when Redis accepted a command but did not answer in time. */
export class RedisReplyTimeoutError extends Error {
  constructor(ms: number) {
    super(`Redis did not reply within ${ms} ms`);
    this.name = 'RedisReplyTimeoutError';
  }
}

/**
 * Bounds the wait for a Redis reply. node-redis's own command timeout stops counting once the command
 * is written to the socket, so a hung server (SIGSTOP, a stalled fork, a half-open connection) would be
 * waited on forever. The command itself stays queued; its late reply, if any, is dropped.
 */
export function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisReplyTimeoutError(ms)), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
