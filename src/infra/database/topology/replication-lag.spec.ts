import { PrimaryWalHistory, replicaLag } from './replication-lag';

describe('replicaLag', () => {
  const history = (samples: Array<[bigint, number]>, keepMs = 60_000) => {
    const h = new PrimaryWalHistory(keepMs);
    for (const [lsn, at] of samples) h.record(lsn, at);
    return h;
  };

  it('is unknown before the primary was ever seen', () => {
    expect(replicaLag(100n, 3, new PrimaryWalHistory(60_000), 10_000)).toBeUndefined();
  });

  it('is zero when the replica has everything the primary was seen with, however old its last replayed commit', () => {
    const h = history([
      [100n, 1_000],
      [100n, 2_000],
    ]);
    expect(replicaLag(100n, 3600, h, 3_000)).toEqual({ seconds: 0, bytes: 0 });
    expect(replicaLag(150n, null, h, 3_000)).toEqual({ seconds: 0, bytes: 0 });
  });

  it('counts from the last time the primary was at a position the replica has', () => {
    const h = history([
      [100n, 1_000],
      [200n, 2_000],
      [300n, 3_000],
      [400n, 4_000],
    ]);
    expect(replicaLag(250n, null, h, 5_000)).toEqual({ seconds: 3, bytes: 150 });
    expect(replicaLag(200n, null, h, 5_000)).toEqual({ seconds: 3, bytes: 200 });
  });

  it('takes the replay timestamp age when it is the tighter bound', () => {
    const h = history([
      [100n, 1_000],
      [400n, 4_000],
    ]);
    expect(replicaLag(200n, 0.5, h, 9_000)).toEqual({ seconds: 0.5, bytes: 200 });
    expect(replicaLag(200n, 60, h, 9_000)).toEqual({ seconds: 8, bytes: 200 });
  });

  it('keeps a window, but at least one sample, so a replica older than the window still lags', () => {
    const h = history(
      [
        [100n, 0],
        [200n, 50_000],
        [300n, 100_000],
      ],
      30_000,
    );
    expect(h.oldest()).toEqual({ lsn: 300n, at: 100_000 });
    expect(replicaLag(50n, null, h, 110_000)).toEqual({ seconds: 10, bytes: 250 });
  });

  it('forgets the old primary after a failover', () => {
    const h = history([[900n, 1_000]]);
    h.reset();
    expect(replicaLag(100n, null, h, 2_000)).toBeUndefined();
  });
});
