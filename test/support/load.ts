import { sleep } from '../../tools/stack/ports';

export interface LoadResult {
  readonly op: string;
  readonly method: string;
  /** 0 when the request itself failed (connection error, timeout). */
  readonly status: number;
  readonly requestId: string | null;
  readonly servedBy: string | null;
  readonly tag?: string;
  readonly error?: string;
}

export interface Operation {
  readonly op: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Carried into the result (e.g. the unique title of a POST, to look for duplicates). */
  readonly tag?: string;
}

export interface LoadOptions {
  readonly baseUrl: string;
  readonly concurrency: number;
  /** Hard bounds: the load stops at whichever comes first (or at stop()). */
  readonly maxRequests: number;
  readonly maxMs: number;
  /** Pause between a worker's requests, to keep the load steady rather than saturating. */
  readonly pauseMs?: number;
  readonly next: (i: number) => Operation;
}

/** A bounded, steady load of real HTTP requests; every outcome is recorded, none is retried. */
export class Load {
  readonly results: LoadResult[] = [];
  private stopped = false;
  private issued = 0;
  readonly done: Promise<void>;

  constructor(private readonly options: LoadOptions) {
    const deadline = Date.now() + options.maxMs;
    this.done = Promise.all(Array.from({ length: options.concurrency }, () => this.worker(deadline))).then(
      () => undefined,
    );
  }

  get count(): number {
    return this.results.length;
  }

  async stop(): Promise<LoadResult[]> {
    this.stopped = true;
    await this.done;
    return this.results;
  }

  failures(filter: (r: LoadResult) => boolean = () => true): LoadResult[] {
    return this.results.filter((r) => filter(r) && (r.status === 0 || r.status >= 400));
  }

  private async worker(deadline: number): Promise<void> {
    const { baseUrl, maxRequests, pauseMs = 0, next } = this.options;
    while (!this.stopped && this.issued < maxRequests && Date.now() < deadline) {
      const op = next(this.issued++);
      const headers: Record<string, string> = { ...op.headers };
      if (op.body !== undefined) headers['content-type'] = 'application/json';
      try {
        const res = await fetch(baseUrl + op.path, {
          method: op.method,
          headers,
          body: op.body === undefined ? undefined : JSON.stringify(op.body),
          signal: AbortSignal.timeout(15_000),
        });
        await res.arrayBuffer();
        this.results.push({
          op: op.op,
          method: op.method,
          status: res.status,
          requestId: res.headers.get('x-request-id'),
          servedBy: res.headers.get('x-served-by'),
          tag: op.tag,
        });
      } catch (err) {
        this.results.push({
          op: op.op,
          method: op.method,
          status: 0,
          requestId: null,
          servedBy: null,
          tag: op.tag,
          error: String(err),
        });
      }
      if (pauseMs) await sleep(pauseMs);
    }
  }
}
