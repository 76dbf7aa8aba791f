import { CounterWindow, ratioOf } from './counter-window';

describe('CounterWindow', () => {
  it('gives the rate over the window, once there are two samples', () => {
    const w = new CounterWindow(5000);
    w.record(0, 100);
    expect(w.perSecond()).toBeUndefined();
    w.record(1000, 110);
    expect(w.perSecond()).toBe(10);
    w.record(2000, 130);
    expect(w.perSecond()).toBe(15);
    expect(w.increase()).toBe(30);
  });

  it('forgets samples older than the window, keeping one at its start', () => {
    const w = new CounterWindow(2000);
    for (let t = 0; t <= 10_000; t += 1000) w.record(t, t < 5000 ? t : 5000 + (t - 5000) * 3);
    // From t=8000 to t=10000 the counter grew by 3 per ms.
    expect(w.perSecond()).toBe(3000);
  });

  it('treats a lower value as a restart from zero, never as a negative rate', () => {
    const w = new CounterWindow(10_000);
    w.record(0, 500);
    w.record(1000, 520);
    w.record(2000, 4); // the process restarted and has served 4 since
    expect(w.increase()).toBe(24);
    expect(w.perSecond()).toBe(12);
  });

  it('starts over after clear()', () => {
    const w = new CounterWindow(10_000);
    w.record(0, 1);
    w.record(1000, 2);
    w.clear();
    w.record(2000, 50);
    expect(w.perSecond()).toBeUndefined();
  });
});

describe('ratioOf', () => {
  it('is hits over lookups in the window, undefined without lookups', () => {
    const hits = new CounterWindow(5000);
    const misses = new CounterWindow(5000);
    hits.record(0, 10);
    misses.record(0, 10);
    hits.record(1000, 10);
    misses.record(1000, 10);
    expect(ratioOf(hits, misses)).toBeUndefined();
    hits.record(2000, 13);
    misses.record(2000, 11);
    expect(ratioOf(hits, misses)).toBe(0.75);
  });
});
