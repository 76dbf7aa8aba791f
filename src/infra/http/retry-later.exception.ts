import { type HttpExceptionOptions, ServiceUnavailableException } from '@nestjs/common';

/** A 503 that says when to come back (RFC 9110 Retry-After): a failover in progress, a store briefly away. */
export class RetryLaterException extends ServiceUnavailableException {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: HttpExceptionOptions,
  ) {
    super(message, options);
  }
}

/** Seconds for the Retry-After of any 503: the exception's own, else 1 (every 503 here is a passing condition). */
export function retryAfterOf(exception: unknown): number {
  return exception instanceof RetryLaterException ? exception.retryAfterSeconds : 1;
}
