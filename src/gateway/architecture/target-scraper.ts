import { Agent } from 'undici';
import { parsePrometheusText, type Sample } from './prometheus-text';

/** One dependency check in a /health/ready body (Terminus' `details`): `{ status, ...facts }`. */
export type CheckDetail = Readonly<Record<string, unknown>> & { readonly status?: string };

export interface Readiness {
  readonly httpStatus: number;
  /** ok, degraded, error or draining, as the API and the worker answer. */
  readonly status: string;
  readonly details: Readonly<Record<string, CheckDetail>>;
}

/** What one scrape of an API instance or a worker found. */
export interface TargetReading {
  readonly at: number;
  readonly readiness?: Readiness;
  /** Why readiness could not be read (refused, timed out, ...). */
  readonly error?: string;
  readonly samples: readonly Sample[];
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * GET /health/ready and /metrics of one process, both bounded by `timeoutMs`, on connections of its own
 * (never the proxy's pools). Never rejects: a dead or frozen process is a reading with an error.
 */
export class TargetScraper {
  private readonly agent: Agent;

  constructor(
    private readonly timeoutMs: number,
    private readonly wanted: ReadonlySet<string>,
  ) {
    this.agent = new Agent({
      connections: 2,
      pipelining: 1,
      connectTimeout: timeoutMs,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  async read(origin: string): Promise<TargetReading> {
    const at = Date.now();
    const signal = AbortSignal.timeout(this.timeoutMs);
    // The hard deadline holds even if a library timer misbehaves: a hung process must not stall a round.
    const deadline = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('timeout')), this.timeoutMs + 50).unref(),
    );
    const [ready, metrics] = await Promise.allSettled([
      Promise.race([this.get(origin, '/health/ready', signal), deadline]),
      Promise.race([this.get(origin, '/metrics', signal), deadline]),
    ]);
    const samples =
      metrics.status === 'fulfilled' && metrics.value.status === 200
        ? parsePrometheusText(metrics.value.body, this.wanted)
        : [];
    if (ready.status === 'rejected') return { at, error: describeError(ready.reason), samples };
    return { at, readiness: readinessOf(ready.value.status, ready.value.body), samples };
  }

  close(): Promise<void> {
    return this.agent.destroy().catch(() => undefined);
  }

  private async get(origin: string, path: string, signal: AbortSignal): Promise<{ status: number; body: string }> {
    const res = await this.agent.request({
      origin,
      path,
      method: 'GET',
      signal,
      headers: { 'user-agent': 'zero-to-millions-gateway/architecture' },
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.body.destroy();
        throw new Error(`${path} answered more than ${MAX_BODY_BYTES} bytes`);
      }
      chunks.push(chunk);
    }
    return { status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') };
  }
}

function readinessOf(httpStatus: number, body: string): Readiness {
  try {
    const parsed = JSON.parse(body) as { status?: unknown; details?: unknown };
    const details =
      parsed.details && typeof parsed.details === 'object' ? (parsed.details as Record<string, CheckDetail>) : {};
    return { httpStatus, status: typeof parsed.status === 'string' ? parsed.status : `HTTP ${httpStatus}`, details };
  } catch {
    return { httpStatus, status: `HTTP ${httpStatus}`, details: {} };
  }
}

function describeError(err: unknown): string {
  const e = err as { code?: string; name?: string; message?: string };
  if (
    e.name === 'TimeoutError' ||
    e.name === 'AbortError' ||
    e.message === 'timeout' ||
    e.code === 'UND_ERR_HEADERS_TIMEOUT'
  )
    return 'timeout';
  if (e.code === 'ECONNREFUSED') return 'connection refused';
  return e.code ?? e.message ?? String(err);
}
