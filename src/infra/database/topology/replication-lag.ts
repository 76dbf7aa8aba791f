import type { Lsn } from './lsn';

export interface WalSample {
  readonly lsn: Lsn;
  /** When the monitor saw the primary at this position (the app's clock). */
  readonly at: number;
}

export interface ReplicaLag {
  /** An upper bound: the replica misses nothing older than this. 0 when it has everything the primary was seen with. */
  readonly seconds: number;
  /** WAL bytes between the primary's last seen position and the replica's replay position. */
  readonly bytes: number;
}

/** The primary's WAL position as the monitor saw it over time: the clock that replica lag is read against. */
export class PrimaryWalHistory {
  private samples: WalSample[] = [];

  constructor(private readonly keepMs: number) {}

  record(lsn: Lsn, at: number): void {
    this.samples.push({ lsn, at });
    // Keep at least one sample, so a replica older than the whole window still shows a (lower-bound) lag.
    while (this.samples.length > 1 && at - this.samples[0]!.at > this.keepMs) this.samples.shift();
  }

  /** A new primary (failover) writes a different history; comparing against the old one would invent lag. */
  reset(): void {
    this.samples = [];
  }

  latest(): WalSample | undefined {
    return this.samples.at(-1);
  }

  /** The last time the primary was seen at a position the replica already has. */
  lastAtOrBefore(lsn: Lsn): WalSample | undefined {
    for (let i = this.samples.length - 1; i >= 0; i--) if (this.samples[i]!.lsn <= lsn) return this.samples[i];
    return undefined;
  }

  oldest(): WalSample | undefined {
    return this.samples[0];
  }
}

/**
 * Lag as the tighter of two upper bounds: the replica's own replay timestamp age (GitLab's measure, which alone
 * grows without bound while the primary is idle), and the time since the monitor last saw the primary at a
 * position the replica has replayed (precise to one monitor interval). Undefined while no primary was ever seen.
 */
export function replicaLag(
  replayLsn: Lsn,
  replayAgeSeconds: number | null,
  history: PrimaryWalHistory,
  now: number,
): ReplicaLag | undefined {
  const latest = history.latest();
  if (!latest) return undefined;
  if (replayLsn >= latest.lsn) return { seconds: 0, bytes: 0 };
  const since = history.lastAtOrBefore(replayLsn) ?? history.oldest()!;
  const bySamples = Math.max(0, (now - since.at) / 1000);
  const seconds = replayAgeSeconds === null ? bySamples : Math.max(0, Math.min(bySamples, replayAgeSeconds));
  return { seconds, bytes: Number(latest.lsn - replayLsn) };
}
