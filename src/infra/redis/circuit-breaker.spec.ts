import { CircuitBreaker } from './circuit-breaker';

describe('CircuitBreaker', () => {
  let t = 0;
  const breaker = () => new CircuitBreaker(3, 1000, () => t);
  beforeEach(() => (t = 0));

  it('stays closed below the threshold, and a success resets the count', () => {
    const b = breaker();
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.allow()).toBe(true);
    expect(b.open).toBe(false);
  });

  it('opens after the threshold and refuses calls during the cool-down', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    expect(b.open).toBe(true);
    t = 999;
    expect(b.allow()).toBe(false);
  });

  it('lets exactly one probe through after the cool-down, and closes if it succeeds', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    t = 1000;
    expect(b.allow()).toBe(true);
    expect(b.allow()).toBe(false);
    b.success();
    expect(b.allow()).toBe(true);
    expect(b.open).toBe(false);
  });

  it('reopens for another cool-down when the probe fails', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    t = 1000;
    expect(b.allow()).toBe(true);
    b.failure();
    t = 1999;
    expect(b.allow()).toBe(false);
    t = 2000;
    expect(b.allow()).toBe(true);
  });
});
