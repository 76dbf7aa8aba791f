import { nextConcurrency } from './concurrency-autoscaler';

describe('nextConcurrency', () => {
  const bounds = { min: 2, max: 16 };

  it('rises at once to the backlog, capped at max', () => {
    expect(nextConcurrency(2, 10, bounds)).toBe(10);
    expect(nextConcurrency(2, 500, bounds)).toBe(16);
  });

  it('falls by half the gap per tick, never below min', () => {
    expect(nextConcurrency(16, 0, bounds)).toBe(9);
    expect(nextConcurrency(9, 0, bounds)).toBe(5);
    expect(nextConcurrency(5, 0, bounds)).toBe(3);
    expect(nextConcurrency(3, 0, bounds)).toBe(2);
    expect(nextConcurrency(2, 0, bounds)).toBe(2);
  });

  it('holds steady when the backlog matches', () => {
    expect(nextConcurrency(8, 8, bounds)).toBe(8);
  });
});
