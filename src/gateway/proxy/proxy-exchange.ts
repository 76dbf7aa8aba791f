import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { BODY_TOO_LARGE } from '../server/body-limit';
import { type ClientResponse, sendJsonError } from '../server/json-error';
import type { Upstream } from '../upstreams/upstream';
import type { UpstreamSet } from '../upstreams/upstream-set';
import { classifyFailure } from './failure';
import type { ProxyStats } from './proxy-stats';
import { clientResponseHeaders } from './response-headers';
import { isIdempotent, mayRetry } from './retry-policy';

/** Sees a response on its way to the client: the edge cache records, revalidates or takes over with it. */
export interface ResponseTap {
  /** Headers arrived (hop-by-hop already removed). Return true to answer the client yourself. */
  onResponseStart(statusCode: number, headers: string[]): boolean;
  onResponseData(chunk: Buffer): void;
  onResponseEnd(): void;
  /** The upstream broke mid-body or the client left: nothing complete to keep. */
  onResponseAbort(): void;
  /** No response could be had; return true when the tap answered the client (e.g. with a stale copy). */
  onGiveUp(statusCode: number): boolean;
}

export interface ProxyContext {
  readonly upstreams: UpstreamSet;
  readonly stats: ProxyStats;
  readonly maxTries: number;
  readonly requestTimeoutMs: number;
  readonly responseTimeoutMs: number;
  readonly log: Logger;
  readonly observeDuration: (seconds: number) => void;
}

// Identity-compared: our own abort when the client went away is not the upstream's fault.
const CLIENT_GONE = Object.assign(new Error('client closed the connection'), { code: 'GW_CLIENT_GONE' });

/**
 * One client request through the gateway: pick an upstream, dispatch on its keep-alive pool with
 * undici's handler interface (the one undici 7 runs natively: raw header buffers, no per-response
 * header object, no stream objects), stream the response back with backpressure, and retry on the
 * next upstream when the retry policy allows. Methods live on the prototype: no closures per request.
 */
export class ProxyExchange implements Dispatcher.DispatchHandler {
  tap: ResponseTap | null = null;
  /** Appended to the client's response headers (X-Edge-Cache, a sticky-session cookie). */
  extraHeaders: readonly string[] | null = null;
  /** Sticky sessions: try this upstream first when it is available. */
  preferred: Upstream | undefined;
  /** Sticky sessions: called with the upstream that answered; returns headers to add (Set-Cookie). */
  affinity: ((upstream: Upstream) => string[] | null) | null = null;

  private upstream: Upstream | null = null;
  private tried: Upstream[] | null = null;
  private sent = false;
  private abortFn: ((err?: Error) => void) | null = null;
  private started = false;
  private takenOver = false;
  private tries = 0;
  private resumeFn: (() => void) | null = null;
  private readonly startedAt = performance.now();
  private readonly deadline: number;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly method: string,
    private readonly path: string,
    private readonly res: ClientResponse,
    private readonly headers: string[],
    readonly requestId: string,
    readonly body: Readable | null,
  ) {
    this.deadline = Date.now() + ctx.requestTimeoutMs;
  }

  start(): void {
    this.dispatch();
  }

  private dispatch(): void {
    const now = Date.now();
    const msLeft = this.deadline - now;
    if (msLeft <= 0) return this.giveUp(504, `no upstream answered within ${this.ctx.requestTimeoutMs} ms`);
    const preferred = this.tries === 0 ? this.preferred : undefined;
    const upstream = preferred?.available(now) ? preferred : this.ctx.upstreams.pick(this.tried, now);
    if (upstream === undefined) {
      if (this.tries > 0) return this.giveUp(502, `no upstream could serve the request (${this.tries} tried)`);
      this.ctx.stats.noUpstream++;
      return this.giveUp(503, 'no healthy upstream');
    }
    this.upstream = upstream;
    this.sent = false;
    this.abortFn = null;
    this.tries++;
    upstream.inFlight++;
    upstream.requests++;
    upstream.pool.dispatch(
      {
        method: this.method,
        path: this.path,
        headers: this.headers,
        body: this.body,
        headersTimeout: Math.min(this.ctx.responseTimeoutMs, msLeft),
      },
      this,
    );
  }

  onConnect(abort: (err?: Error) => void): void {
    // From here the request is on the wire: the upstream may act on it.
    this.sent = true;
    this.abortFn = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: Node answers the client's 100-continue itself.
    this.started = true;
    const headers = clientResponseHeaders(rawHeaders);
    if (this.tap !== null && this.tap.onResponseStart(statusCode, headers)) {
      this.takenOver = true;
      return true;
    }
    if (this.extraHeaders !== null) headers.push(...this.extraHeaders);
    if (this.affinity !== null) {
      const more = this.affinity(this.upstream!);
      if (more !== null) headers.push(...more);
    }
    if (this.res.destroyed) return this.clientGone();
    this.ctx.stats.responses[(statusCode / 100) | 0]!++;
    this.res.writeHead(statusCode, headers);
    this.resumeFn = resume;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.tap !== null) this.tap.onResponseData(chunk);
    if (this.takenOver) return true;
    if (this.res.destroyed) return this.clientGone();
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.resumeFn!);
    return false;
  }

  onComplete(): void {
    const upstream = this.upstream!;
    upstream.inFlight--;
    if (!this.takenOver) this.res.end();
    if (this.tap !== null) this.tap.onResponseEnd();
    this.ctx.observeDuration((performance.now() - this.startedAt) / 1000);
  }

  onError(err: Error & { code?: string }): void {
    const upstream = this.upstream!;
    upstream.inFlight--;
    const stats = this.ctx.stats;
    if (err === CLIENT_GONE || (this.body !== null && this.body.errored !== null)) {
      // The client went away or its body failed (aborted upload, over the size limit): not the upstream's fault.
      if (this.tap !== null) this.tap.onResponseAbort();
      if (err.code === BODY_TOO_LARGE && !this.started) return this.giveUp(413, err.message, ['connection', 'close']);
      stats.clientAborts++;
      this.res.destroy();
      return;
    }
    const failure = classifyFailure(err, this.sent);
    if (failure === 'invalid-request') return this.giveUp(400, `the request cannot be forwarded: ${err.message}`);
    if (failure.kind !== undefined) upstream.recordFailure(failure.kind);
    stats.upstreamFailures++;
    const logged = {
      requestId: this.requestId,
      method: this.method,
      upstream: upstream.url,
      phase: failure.phase,
      code: failure.code,
      try: this.tries,
    };
    if (this.started) {
      // Bytes already reached the client: no retry can make this whole. Close, so it sees a truncation.
      stats.truncated++;
      this.ctx.log.warn(logged, 'upstream failed mid-response; client connection closed');
      if (this.tap !== null) this.tap.onResponseAbort();
      this.res.destroy();
      return;
    }
    const retry = mayRetry({
      method: this.method,
      phase: failure.phase,
      hasBody: this.body !== null,
      responseStarted: false,
      triesSoFar: this.tries,
      maxTries: this.ctx.maxTries,
      msLeft: this.deadline - Date.now(),
    });
    this.ctx.log[retry ? 'info' : 'warn'](
      logged,
      retry ? 'upstream failed; retrying on the next one' : 'upstream failed; not retried',
    );
    if (retry) {
      (this.tried ??= []).push(upstream);
      stats.retries++;
      return this.dispatch();
    }
    if (failure.kind === 'timeout') return this.giveUp(504, `the upstream did not answer in time (${failure.code})`);
    if (failure.phase === 'sent' && !isIdempotent(this.method)) {
      return this.giveUp(
        502,
        `the upstream failed after the ${this.method} request was sent (${failure.code}); not retried, as it may have taken effect`,
      );
    }
    this.giveUp(502, `the upstream failed (${failure.code}) after ${this.tries} ${this.tries === 1 ? 'try' : 'tries'}`);
  }

  private clientGone(): false {
    this.abortFn?.(CLIENT_GONE);
    return false;
  }

  private giveUp(statusCode: number, message: string, extraHeaders?: string[]): void {
    if (this.tap !== null && this.tap.onGiveUp(statusCode)) return;
    this.ctx.stats.responses[(statusCode / 100) | 0]!++;
    if (statusCode === 413) this.ctx.stats.rejected.bodyTooLarge++;
    this.ctx.observeDuration((performance.now() - this.startedAt) / 1000);
    sendJsonError(this.res, statusCode, message, this.requestId, extraHeaders);
  }
}
