/** Thrown when Redis accepted a command but did not answer in time. */
export class RedisReplyTimeoutError extends Error {
  constructor(ms: number) {
    super(`Redis did not reply within ${ms} ms`);
    this.name = 'RedisReplyTimeoutError';
  }
}

/**
 * Bounds the wait for a Redis reply, so a hung server (SIGSTOP, a stalled fork, a half-open connection) never
 * stalls a request past the deadline; ioredis' own commandTimeout is only a backstop (it judges on a bare timer).
 * The command itself stays queued; its late reply, if any, is dropped.
 *
 * The verdict waits for one setImmediate: a loop busy with our own requests runs an expired timer before it reads
 * the reply already in the socket, and blaming Redis for that opens the breaker on a healthy Redis (house plan:
 * a breaker measures the dependency, not our event loop).
 */
export function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (settled) return;
        settled = true;
        reject(new RedisReplyTimeoutError(ms));
      });
    }, ms);
    work.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
