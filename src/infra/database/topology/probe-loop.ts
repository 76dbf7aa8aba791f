import { AsyncResource } from 'node:async_hooks';

/**
 * Runs one node's probe over and over: a jittered interval between probes (so instances do not probe in
 * lockstep), at most one probe in flight (a frozen node costs one pending probe, not a pile), and `now()` for
 * "probe again as soon as possible" after a failed query.
 */
export class ProbeLoop {
  readonly firstProbe: Promise<void>;
  private resolveFirst!: () => void;
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private stopped = false;
  // Probes woken by a failing request must not run (and log) as part of that request's async context.
  private readonly context = new AsyncResource('db-probe-loop');

  constructor(
    private readonly probe: () => Promise<void>,
    private readonly nextDelayMs: () => number,
  ) {
    this.firstProbe = new Promise((resolve) => (this.resolveFirst = resolve));
  }

  start(): void {
    this.context.runInAsyncScope(() => void this.tick());
  }

  now(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.context.runInAsyncScope(() => void this.tick());
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.resolveFirst();
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    try {
      await this.probe();
    } finally {
      this.running = false;
      this.resolveFirst();
    }
    if (this.stopped) return;
    // A burst of failures asks for many probes; one more, shortly, answers all of them.
    const delay = this.again ? 50 : this.nextDelayMs();
    this.again = false;
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref();
  }
}
