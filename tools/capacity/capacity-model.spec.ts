import { DEFAULT_ASSUMPTIONS, fitCpuLines, plan, predictedSaturation, type Step } from './capacity-model';

/** A step whose CPU is exactly `fixed + perRequest x rate` per second for each kind. */
const step = (rate: number, kinds: Record<string, { fixed: number; perRequest: number }>, passed = true): Step => ({
  connections: 8,
  achieved: rate,
  requests: rate * 10,
  passed,
  redisCommandsPerRequest: 3,
  cache: { hit: 9, miss: 1, bypass: 0 },
  cpuUsPerRequest: Object.fromEntries(
    Object.entries(kinds).map(([k, { fixed, perRequest }]) => [k, (fixed + perRequest * rate) / rate]),
  ),
});

describe('capacity model', () => {
  const kinds = {
    api: { fixed: 20_000, perRequest: 400 },
    'postgres replicas': { fixed: 50_000, perRequest: 150 },
    gateway: { fixed: 0, perRequest: 100 },
  };

  it('separates what a kind costs idle from what each request adds', () => {
    const lines = fitCpuLines([step(100, kinds), step(200, kinds), step(400, kinds), step(9000, kinds, false)]);
    expect(lines.get('api')!.usPerRequest).toBeCloseTo(400, 6);
    expect(lines.get('api')!.fixedUsPerSecond).toBeCloseTo(20_000, 3);
    expect(lines.get('postgres replicas')!.fixedUsPerSecond).toBeCloseTo(50_000, 3);
  });

  it('predicts saturation where the cores run out', () => {
    const lines = fitCpuLines([step(100, kinds), step(300, kinds)]);
    // 2 cores: 2e6 µs/s, minus 70 000 fixed, over 650 µs per request.
    expect(predictedSaturation(lines, 2)).toBeCloseTo((2_000_000 - 70_000) / 650, 6);
  });

  it('sizes the tiers for the peak at the target utilization, with a spare instance', () => {
    const p = plan(new Map([['api', 400]]), 3, { ...DEFAULT_ASSUMPTIONS, dau: 1_000_000 });
    // 1M x 50 / 86 400 = 578.7 req/s on average, x3 at peak.
    expect(p.peakRequestsPerSecond).toBeCloseTo(1736.1, 1);
    const api = p.tiers.find((t) => t.tier === 'API')!;
    expect(api.cores).toBeCloseTo((1736.1 * 400) / 1e6 / 0.6, 2);
    expect(api.instances).toBe(Math.ceil(api.cores) + 1);
    expect(p.redisOpsPerSecond).toBeCloseTo(1736.1 * 3, 0);
  });

  it('refuses to fit fewer than two served steps', () => {
    expect(() => fitCpuLines([step(100, kinds), step(200, kinds, false)])).toThrow(/at least two/);
  });
});
