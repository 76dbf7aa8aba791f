/**
 * Stops calling a dependency after `threshold` consecutive failures, for `coolDownMs`; then lets one
 * probe through. A hung Redis then costs one timeout per cool-down, not one per request.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly threshold: number,
    private readonly coolDownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** May a call go through now? */
  allow(): boolean {
    if (this.failures < this.threshold) return true;
    if (this.now() < this.openUntil || this.probing) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
  }

  failure(): void {
    this.failures++;
    this.probing = false;
    if (this.failures >= this.threshold) this.openUntil = this.now() + this.coolDownMs;
  }

  get open(): boolean {
    return this.failures >= this.threshold;
  }
}
