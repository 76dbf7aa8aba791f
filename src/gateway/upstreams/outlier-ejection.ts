/**
 * Envoy-style passive outlier detection: a connection error or timeout ejects the upstream at once, for
 * base × 2^(n-1) (capped at max), where n counts ejections that follow each other within `max` of the
 * last one ending. A flapping upstream is kept out longer each time; one that behaves is forgiven.
 */
export class OutlierEjection {
  private ejectedUntil = 0;
  private streak = 0;
  private total = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}

  /** Ejects now; returns how long for. A second failure during an ejection does not extend it. */
  eject(now: number): number {
    if (this.isEjected(now)) return 0;
    this.streak = this.ejectedUntil > 0 && now - this.ejectedUntil <= this.maxMs ? this.streak + 1 : 1;
    const duration = Math.min(this.maxMs, this.baseMs * 2 ** (this.streak - 1));
    this.ejectedUntil = now + duration;
    this.total++;
    return duration;
  }

  isEjected(now: number): boolean {
    return now < this.ejectedUntil;
  }

  /** Active checks proved the upstream healthy `rise` times in a row: no reason to keep it out. */
  clear(now: number): void {
    this.ejectedUntil = Math.min(this.ejectedUntil, now);
  }

  get ejections(): number {
    return this.total;
  }

  remainingMs(now: number): number {
    return Math.max(0, this.ejectedUntil - now);
  }
}
