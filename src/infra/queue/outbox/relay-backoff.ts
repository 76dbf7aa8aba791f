/** Exponential backoff with full jitter (AWS architecture blog), so relays of many instances do not retry in step. */
export function relayBackoffMs(
  consecutiveFailures: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(consecutiveFailures, 30));
  return Math.max(baseMs, Math.round(ceiling * random()));
}

/** A sleep that `wake()` can end early; wakes while nobody sleeps are remembered once. */
export class WakeableSleep {
  private pending?: () => void;
  private woken = false;

  sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.pending = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.pending = done;
    });
  }

  wake(): void {
    if (this.pending) this.pending();
    else this.woken = true;
  }
}
