import { sleep } from '../../tools/stack/ports';

/** One timed operation of a client loop: a hang past the deadline counts as a failure, like an error. */
export interface TimedOp {
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
  readonly error?: string;
}

/** What a client saw around a disruption at `disruptedAt`. */
export interface OutageReport {
  readonly client: string;
  readonly ops: number;
  readonly failures: number;
  readonly failuresBeforeDisruption: number;
  /** First failed op's start to the end of the first success after the last failure; 0 if nothing failed. */
  readonly unavailableMs: number;
  /** Longest time between two successes that spans the disruption: catches a client that hangs without failing. */
  readonly longestGapMs: number;
  /** Disruption to the end of the first success after the last failure. */
  readonly recoveredAfterMs: number;
  readonly firstErrors: readonly string[];
}

/** Runs `op` back to back (with `pauseMs` between) until stopped, each under its own deadline. */
export class ClientLoop {
  readonly ops: TimedOp[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(
    readonly client: string,
    op: (i: number) => Promise<void>,
    deadlineMs: number,
    pauseMs = 20,
  ) {
    this.done = (async () => {
      for (let i = 0; this.running; i++) {
        const start = Date.now();
        const result = await withDeadline(op(i), deadlineMs).then(
          () => undefined,
          (err: Error) => `${err.name}: ${err.message}`,
        );
        this.ops.push({ start, end: Date.now(), ok: result === undefined, error: result });
        await sleep(pauseMs);
      }
    })();
  }

  /** True once `count` successes in a row started after `since`. */
  recoveredSince(since: number, count = 5): boolean {
    const after = this.ops.filter((o) => o.start >= since);
    return after.length >= count && after.slice(-count).every((o) => o.ok);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  report(disruptedAt: number): OutageReport {
    const failed = this.ops.filter((o) => !o.ok);
    const firstFailure = failed[0];
    const lastFailure = failed[failed.length - 1];
    const recovery = lastFailure ? this.ops.find((o) => o.ok && o.start > lastFailure.start) : undefined;
    const successEnds = [disruptedAt, ...this.ops.filter((o) => o.ok && o.end >= disruptedAt).map((o) => o.end)];
    const lastOkBefore = [...this.ops].reverse().find((o) => o.ok && o.end < disruptedAt);
    if (lastOkBefore) successEnds[0] = lastOkBefore.end;
    let longestGapMs = 0;
    for (let i = 1; i < successEnds.length; i++)
      longestGapMs = Math.max(longestGapMs, successEnds[i]! - successEnds[i - 1]!);
    return {
      client: this.client,
      ops: this.ops.length,
      failures: failed.length,
      // An op in flight at the disruption may fail; one that failed before it is the client's own trouble.
      failuresBeforeDisruption: failed.filter((o) => o.end < disruptedAt).length,
      unavailableMs: firstFailure && recovery ? recovery.end - firstFailure.start : firstFailure ? Infinity : 0,
      longestGapMs,
      recoveredAfterMs: recovery ? recovery.end - disruptedAt : lastFailure ? Infinity : 0,
      firstErrors: [...new Set(failed.map((o) => o.error ?? ''))].slice(0, 4),
    };
  }
}

export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
}

export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Percentiles of a sample in ms, for printing. */
export function summarize(samples: readonly number[]): {
  n: number;
  avg: number;
  p50: number;
  p99: number;
  max: number;
} {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    n: sorted.length,
    avg: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1] ?? NaN),
  };
}

/** Runs of consecutive failed ops as "from..to ms (n)" relative to `since`: when a client was down, and how often. */
export function failureSpans(ops: readonly TimedOp[], since: number): string[] {
  const spans: string[] = [];
  let run: TimedOp[] = [];
  const flush = () => {
    if (run.length) spans.push(`${run[0]!.start - since}..${run[run.length - 1]!.end - since} (${run.length})`);
    run = [];
  };
  for (const op of ops) {
    if (op.ok) flush();
    else run.push(op);
  }
  flush();
  return spans;
}
