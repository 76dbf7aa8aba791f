import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../../config';
import { CacheInvalidator } from './cache-invalidator';
import type { EdgePurger } from './edge-purger';
import { READ_FROM_PRIMARY, type VersionedCacheStore } from './versioned-cache-store';

jest.mock('../database', () => ({ currentPrimaryLsn: jest.fn() }));
const { currentPrimaryLsn } = jest.requireMock<{ currentPrimaryLsn: jest.Mock }>('../database');

const config = { cache: { markerMs: 30_000 } } as unknown as AppConfig;
const target = { keys: ['article:1'], versionKeys: ['article:1', 'articles:list'] };

describe('CacheInvalidator', () => {
  let invalidate: jest.Mock;
  let invalidator: CacheInvalidator;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    jest.useFakeTimers();
    invalidate = jest.fn(async () => true);
    invalidator = new CacheInvalidator(
      { invalidate } as unknown as VersionedCacheStore,
      {} as DataSource,
      config,
      { purge: async () => undefined } as unknown as EdgePurger,
      new Registry(),
    );
  });
  afterEach(() => {
    invalidator.onApplicationShutdown();
    jest.useRealTimers();
  });

  it("marks the entries with the commit's WAL position, so the next fill reads at least that fresh", async () => {
    currentPrimaryLsn.mockResolvedValueOnce('0/5000');
    await invalidator.invalidate(target);
    expect(invalidate).toHaveBeenCalledWith(target.keys, target.versionKeys, '0/5000', 30_000);
  });

  it('sends fills to the primary when the position cannot be read right after the commit', async () => {
    currentPrimaryLsn.mockRejectedValueOnce(new Error('primary did not answer'));
    await invalidator.invalidate(target);
    expect(invalidate).toHaveBeenCalledWith(target.keys, target.versionKeys, READ_FROM_PRIMARY, 30_000);
  });

  it('keeps an invalidation that could not reach Redis and retries it until it lands', async () => {
    currentPrimaryLsn.mockResolvedValue('0/6000');
    invalidate.mockResolvedValueOnce(false).mockResolvedValueOnce(false);
    await invalidator.invalidate(target);
    await jest.advanceTimersByTimeAsync(500);
    expect(invalidate).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(500);
    expect(invalidate).toHaveBeenCalledTimes(3);
    await jest.advanceTimersByTimeAsync(2000);
    expect(invalidate).toHaveBeenCalledTimes(3);
  });

  it('applies every deferred invalidation while Redis flaps: one pass at a time, nothing dropped', async () => {
    currentPrimaryLsn.mockResolvedValue('0/7000');
    invalidate.mockResolvedValue(false);
    const writes = Array.from({ length: 20 }, (_, i) => ({ keys: [`article:${i}`], versionKeys: [`article:${i}`] }));
    for (const w of writes) await invalidator.invalidate(w);
    expect(invalidator.pending).toBe(40);

    // Now Redis answers, slowly (700 ms, longer than the retry interval), and fails 2 calls in 3.
    let calls = 0;
    let inFlight = 0;
    let overlaps = 0;
    const landed: string[] = [];
    invalidate.mockImplementation(async (keys: string[], versionKeys: string[]) => {
      if (inFlight++ > 0) overlaps++;
      await new Promise((resolve) => setTimeout(resolve, 700));
      inFlight--;
      const ok = ++calls % 3 === 0;
      if (ok) landed.push(...keys, ...versionKeys);
      return ok;
    });
    await jest.advanceTimersByTimeAsync(30_000);

    expect(overlaps).toBe(0);
    expect(invalidator.pending).toBe(0);
    // Every key and counter reached Redis exactly once.
    expect(landed.sort()).toEqual(writes.flatMap((w) => [...w.keys, ...w.versionKeys]).sort());
  });

  it('merges repeated invalidations of one key while Redis is down into one retry', async () => {
    currentPrimaryLsn.mockResolvedValue('0/8000');
    invalidate.mockResolvedValue(false);
    for (let i = 0; i < 5; i++) await invalidator.invalidate(target);
    expect(invalidator.pending).toBe(3);
    invalidate.mockResolvedValue(true);
    await jest.advanceTimersByTimeAsync(500);
    expect(invalidate).toHaveBeenLastCalledWith(['article:1'], ['article:1', 'articles:list'], '0/8000', 30_000);
    expect(invalidator.pending).toBe(0);
    const calls = invalidate.mock.calls.length;
    await jest.advanceTimersByTimeAsync(5_000);
    expect(invalidate.mock.calls.length).toBe(calls);
  });
});
