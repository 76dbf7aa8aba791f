import { HealthState } from './health-state';

describe('HealthState (HAProxy rise/fall)', () => {
  it('starts unknown and is decided by the first check', () => {
    const up = new HealthState(2, 3);
    expect(up.status).toBe('unknown');
    expect(up.record(true)).toEqual({ from: 'unknown', to: 'up' });
    const down = new HealthState(2, 3);
    expect(down.record(false)).toEqual({ from: 'unknown', to: 'down' });
  });

  it('goes down after exactly `fall` consecutive failures', () => {
    const h = new HealthState(2, 3);
    h.record(true);
    expect(h.record(false)).toBeUndefined();
    expect(h.record(false)).toBeUndefined();
    expect(h.record(false)).toEqual({ from: 'up', to: 'down' });
  });

  it('needs the failures to be consecutive', () => {
    const h = new HealthState(2, 2);
    h.record(true);
    h.record(false);
    h.record(true);
    expect(h.record(false)).toBeUndefined();
    expect(h.status).toBe('up');
  });

  it('comes back after exactly `rise` consecutive successes', () => {
    const h = new HealthState(3, 1);
    h.record(false);
    expect(h.record(true)).toBeUndefined();
    expect(h.record(true)).toBeUndefined();
    expect(h.record(true)).toEqual({ from: 'down', to: 'up' });
    expect(h.consecutiveSuccesses).toBe(3);
  });

  it('a failure resets the rise count', () => {
    const h = new HealthState(2, 1);
    h.record(false);
    h.record(true);
    h.record(false);
    expect(h.record(true)).toBeUndefined();
    expect(h.record(true)).toEqual({ from: 'down', to: 'up' });
  });

  it('markDown takes an upstream out at once (draining), and it must rise again', () => {
    const h = new HealthState(2, 5);
    h.record(true);
    expect(h.markDown()).toEqual({ from: 'up', to: 'down' });
    expect(h.markDown()).toBeUndefined();
    expect(h.record(true)).toBeUndefined();
    expect(h.record(true)).toEqual({ from: 'down', to: 'up' });
  });
});
