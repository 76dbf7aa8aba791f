/**
 * Turns a cumulative counter read on every scrape into a rate over the last `windowMs`. A value below
 * the previous one means the process restarted (counters start from 0 again), as Prometheus' rate() assumes.
 */
export class CounterWindow {
  private readonly samples: Array<{ at: number; total: number }> = [];
  private lastRaw?: number;
  private total = 0;

  constructor(private readonly windowMs: number) {}

  record(at: number, value: number): void {
    if (this.lastRaw !== undefined) this.total += value >= this.lastRaw ? value - this.lastRaw : value;
    this.lastRaw = value;
    this.samples.push({ at, total: this.total });
    // Keep one sample at or before the window's start, so the rate spans the whole window.
    while (this.samples.length > 2 && this.samples[1]!.at <= at - this.windowMs) this.samples.shift();
  }

  /** How much the counter grew over the window; undefined until there are two samples. */
  increase(): number | undefined {
    if (this.samples.length < 2) return undefined;
    return this.samples.at(-1)!.total - this.samples[0]!.total;
  }

  perSecond(): number | undefined {
    if (this.samples.length < 2) return undefined;
    const first = this.samples[0]!;
    const last = this.samples.at(-1)!;
    return last.at > first.at ? ((last.total - first.total) * 1000) / (last.at - first.at) : undefined;
  }

  clear(): void {
    this.samples.length = 0;
    this.lastRaw = undefined;
    this.total = 0;
  }
}

/** hits / (hits + misses) over the window; undefined when there were no lookups in it. */
export function ratioOf(hits: CounterWindow, misses: CounterWindow): number | undefined {
  const h = hits.increase();
  const m = misses.increase();
  if (h === undefined || m === undefined || h + m === 0) return undefined;
  return h / (h + m);
}
