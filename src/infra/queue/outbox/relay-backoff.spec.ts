import { relayBackoffMs, WakeableSleep } from './relay-backoff';

describe('relayBackoffMs', () => {
  it('grows exponentially up to the cap', () => {
    const top = () => 1;
    expect([0, 1, 2, 3, 4, 10].map((n) => relayBackoffMs(n, 100, 1000, top))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('never goes below the base delay, however the jitter falls', () => {
    expect(relayBackoffMs(5, 100, 1000, () => 0)).toBe(100);
  });

  it('stays finite for very long outages', () => {
    expect(relayBackoffMs(10_000, 100, 5000, () => 1)).toBe(5000);
  });
});

describe('WakeableSleep', () => {
  it('ends a sleep early on wake', async () => {
    const s = new WakeableSleep();
    const started = Date.now();
    const sleeping = s.sleep(10_000);
    s.wake();
    await sleeping;
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('remembers a wake that came while nobody slept, once', async () => {
    const s = new WakeableSleep();
    s.wake();
    await s.sleep(10_000);
    let second = false;
    void s.sleep(30).then(() => (second = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(second).toBe(false);
  });
});
