/** Methods whose repetition has the same effect as one request (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export const isIdempotent = (method: string): boolean => IDEMPOTENT.has(method);

/** Where a try failed: before the upstream could have seen the request, or after it was sent. */
export type FailurePhase = 'connect' | 'sent';

export interface RetryQuestion {
  readonly method: string;
  readonly phase: FailurePhase;
  /** The client's body is streamed, not buffered: once sent, it cannot be sent again. */
  readonly hasBody: boolean;
  /** Status line or bytes already went to the client. */
  readonly responseStarted: boolean;
  readonly triesSoFar: number;
  readonly maxTries: number;
  readonly msLeft: number;
}

/**
 * nginx's rule, made explicit: a request that never reached an upstream (refused, connect timeout) is
 * safe to send elsewhere whatever its method; one that was sent may have had effects, so only an
 * idempotent, bodiless request is retried, and nothing is retried once the client got a byte.
 */
export function mayRetry(q: RetryQuestion): boolean {
  if (q.responseStarted || q.triesSoFar >= q.maxTries || q.msLeft <= 0) return false;
  if (q.phase === 'connect') return true;
  return isIdempotent(q.method) && !q.hasBody;
}
