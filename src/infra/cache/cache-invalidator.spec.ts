import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../../config';
import { CacheInvalidator } from './cache-invalidator';
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
    invalidator = new CacheInvalidator({ invalidate } as unknown as VersionedCacheStore, {} as DataSource, config, new Registry());
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
});
