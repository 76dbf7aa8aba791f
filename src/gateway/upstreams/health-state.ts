export type HealthStatus = 'unknown' | 'up' | 'down';

export interface HealthTransition {
  readonly from: HealthStatus;
  readonly to: HealthStatus;
}

/**
 * HAProxy-style rise/fall: an upstream goes down after `fall` consecutive failed checks and comes back
 * after `rise` consecutive successes. A new upstream is `unknown` (out of rotation, like Envoy's hosts
 * before their first check) until its first check decides, so a dead instance never gets traffic at start.
 */
export class HealthState {
  private current: HealthStatus = 'unknown';
  private successes = 0;
  private failures = 0;

  constructor(
    private readonly rise: number,
    private readonly fall: number,
  ) {}

  get status(): HealthStatus {
    return this.current;
  }

  get consecutiveSuccesses(): number {
    return this.successes;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Records one check result; returns the transition when the status changed. */
  record(ok: boolean): HealthTransition | undefined {
    if (ok) {
      this.successes++;
      this.failures = 0;
      if (this.current === 'unknown' || (this.current === 'down' && this.successes >= this.rise))
        return this.move('up');
    } else {
      this.failures++;
      this.successes = 0;
      if (this.current === 'unknown' || (this.current === 'up' && this.failures >= this.fall)) return this.move('down');
    }
    return undefined;
  }

  /** The upstream said it is shutting down: out at once, and it must rise again like any failure. */
  markDown(): HealthTransition | undefined {
    this.successes = 0;
    this.failures = Math.max(this.failures, this.fall);
    return this.current === 'down' ? undefined : this.move('down');
  }

  private move(to: HealthStatus): HealthTransition {
    const from = this.current;
    this.current = to;
    return { from, to };
  }
}
