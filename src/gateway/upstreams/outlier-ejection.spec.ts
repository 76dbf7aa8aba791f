import { OutlierEjection } from './outlier-ejection';

describe('OutlierEjection (Envoy-style, with backoff)', () => {
  it('ejects for the base time, then lets the upstream back', () => {
    const o = new OutlierEjection(1000, 30_000);
    expect(o.eject(0)).toBe(1000);
    expect(o.isEjected(999)).toBe(true);
    expect(o.isEjected(1000)).toBe(false);
    expect(o.ejections).toBe(1);
  });

  it('does not extend an ejection with failures during it', () => {
    const o = new OutlierEjection(1000, 30_000);
    o.eject(0);
    expect(o.eject(500)).toBe(0);
    expect(o.remainingMs(500)).toBe(500);
    expect(o.ejections).toBe(1);
  });

  it('doubles for repeated ejections up to the cap, and forgives after a quiet period', () => {
    const o = new OutlierEjection(1000, 5000);
    let now = 0;
    const durations: number[] = [];
    for (let i = 0; i < 5; i++) {
      const d = o.eject(now);
      durations.push(d);
      now += d + 10;
    }
    expect(durations).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(o.eject(now + 6000)).toBe(1000);
  });

  it('clear() ends the ejection now', () => {
    const o = new OutlierEjection(1000, 30_000);
    o.eject(0);
    o.clear(100);
    expect(o.isEjected(100)).toBe(false);
  });
});
