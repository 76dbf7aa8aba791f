import type { Outcome, RequestKind } from './mixed-load';

export interface Second {
  /** Seconds since the drill's failure was injected (negative: before). */
  readonly t: number;
  readonly ok: number;
  readonly failed: Readonly<Record<RequestKind, number>>;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface DrillSummary {
  readonly requests: number;
  readonly failedReads: number;
  readonly failedSignedInReads: number;
  readonly writesAcknowledged: number;
  /** First to last refused write, in ms (0 when none was refused). */
  readonly writeUnavailableMs: number;
  /** The slowest refused write: "fail fast" means this stays near a connect timeout, never a hang. */
  readonly slowestRefusalMs: number;
}

const KINDS: readonly RequestKind[] = ['read', 'signed-in read', 'write'];

const failed = (o: Outcome) => (o.kind === 'write' ? o.status !== 201 : o.status !== 200);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!;
}

/** Per-second buckets of the load, second 0 being the one the failure was injected in. */
export function timeline(outcomes: readonly Outcome[], injectedAt: number): Second[] {
  if (outcomes.length === 0) return [];
  const secondOf = (o: Outcome) => Math.floor((o.at - injectedAt) / 1000);
  const first = secondOf(outcomes[0]!);
  const last = Math.max(...outcomes.map(secondOf));
  return Array.from({ length: last - first + 1 }, (_, i) => {
    const t = first + i;
    const bucket = outcomes.filter((o) => secondOf(o) === t);
    const ms = bucket.map((o) => o.ms).sort((a, b) => a - b);
    const fails = Object.fromEntries(KINDS.map((k) => [k, bucket.filter((o) => o.kind === k && failed(o)).length]));
    return {
      t,
      ok: bucket.filter((o) => !failed(o)).length,
      failed: fails as Record<RequestKind, number>,
      p50Ms: percentile(ms, 0.5),
      p99Ms: percentile(ms, 0.99),
    };
  });
}

export function summarize(outcomes: readonly Outcome[]): DrillSummary {
  const refused = outcomes.filter((o) => o.kind === 'write' && failed(o));
  return {
    requests: outcomes.length,
    failedReads: outcomes.filter((o) => o.kind === 'read' && failed(o)).length,
    failedSignedInReads: outcomes.filter((o) => o.kind === 'signed-in read' && failed(o)).length,
    writesAcknowledged: outcomes.filter((o) => o.kind === 'write' && !failed(o)).length,
    writeUnavailableMs: refused.length ? refused.at(-1)!.at - refused[0]!.at : 0,
    slowestRefusalMs: Math.max(0, ...refused.map((o) => o.ms)),
  };
}

/** The timeline as a fixed-width table, one line a second. */
export function renderTimeline(seconds: readonly Second[]): string {
  const head = '     t      ok  failed: read  signed-in  write     p50 ms   p99 ms';
  const rows = seconds.map((s) =>
    [
      `${s.t >= 0 ? '+' : ''}${s.t}s`.padStart(6),
      String(s.ok).padStart(7),
      String(s.failed.read).padStart(14),
      String(s.failed['signed-in read']).padStart(11),
      String(s.failed.write).padStart(7),
      String(s.p50Ms).padStart(10),
      String(s.p99Ms).padStart(9),
    ].join(''),
  );
  return [head, ...rows].join('\n');
}
