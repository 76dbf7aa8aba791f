import { Logger, type OnModuleDestroy } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { withinDeadline } from '../redis';
import type { RedisWindow, WindowState } from './redis-window';

interface Entry {
  readonly key: string;
  readonly name: string;
  readonly limits: { ttl: number; limit: number; blockDuration: number };
  /** The window's total in Redis at the last sync: every instance's hits that had reached Redis by then. */
  known: number;
  /** Hits admitted here and not yet sent; `sending` are on their way. */
  pending: number;
  sending: number;
  expiresAt: number;
  blockedUntil: number;
}

export interface LocallySyncedOptions {
  readonly syncMs: number;
  /** How long one sync waits for Redis; a hung Redis must not stop the next passes. */
  readonly deadlineMs: number;
  /** Past this many windows held here, new clients are checked in Redis directly (bounds the memory). */
  readonly maxLocalWindows: number;
  readonly onSyncError: () => void;
  readonly now?: () => number;
}

/**
 * The general limit without a Redis round trip per request. Why not a library: the Redis-backed throttler storages
 * (@nest-lab/throttler-storage-redis, rate-limiter-flexible's RateLimiterRedis) pay one round trip per check, and
 * that round trip was the largest single cost of a cached read (docs/benchmarks.md); none batches.
 *
 * Each instance counts hits locally and, every `syncMs`, adds what it counted to the shared window in Redis (one
 * script call per active client) and learns the total from every instance. A check is then local: the last
 * known total plus this instance's hits since. Every hit counts, a refused one too, as in Redis.
 *
 * The error is bounded and one-sided. An instance does not see the hits other instances admitted since it last
 * learned the total, and it learns it at the first sync after a hit of its own. So once the fleet's total has
 * passed the limit, each instance admits at most the hits it gets until that sync's reply: in all, a client gets
 * past its limit by at most the requests it sends within one sync interval plus a round trip, plus one for each
 * instance that serves it (an instance that gets one of its requests only now and then may decide that one on an
 * old total). At the default 100 ms and 600 a minute, behind 10 instances, that is about 11 requests a window.
 * The credential limits (auth-ip, auth-account) do not use this: they stay exact (ExactRedisStorage), since there
 * the budget is a handful of guesses.
 *
 * While Redis is unreachable each instance goes on limiting by its own counts (the limit per instance, not per
 * fleet) and keeps the unsent hits for the next sync while their window lasts; every failed sync counts in
 * rate_limit_storage_errors_total. Hits are kept only when they surely never reached Redis (the client was not
 * connected, so nothing was sent). A sync whose reply timed out, or whose connection dropped mid-way, may have
 * been applied: sending it again would count its hits twice and could block a client that kept to its limit, so
 * they are dropped, and the error stays on the permissive side.
 */
export class LocallySyncedStorage implements ThrottlerStorage, OnModuleDestroy {
  private readonly logger = new Logger('RateLimit');
  private readonly windows = new Map<string, Entry>();
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  private syncing: Promise<void> | undefined;
  private lastLogged = 0;

  constructor(
    private readonly window: RedisWindow,
    /** For a client beyond maxLocalWindows: the exact path. */
    private readonly exact: ThrottlerStorage,
    private readonly options: LocallySyncedOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => void this.sync(), options.syncMs).unref();
  }

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    name: string,
  ): Promise<ThrottlerStorageRecord> {
    const id = `${name}:${key}`;
    const now = this.now();
    let w = this.windows.get(id);
    if (!w) {
      if (this.windows.size >= this.options.maxLocalWindows)
        return this.exact.increment(key, ttl, limit, blockDuration, name);
      w = {
        key,
        name,
        limits: { ttl, limit, blockDuration },
        known: 0,
        pending: 0,
        sending: 0,
        expiresAt: now + ttl,
        blockedUntil: 0,
      };
      this.windows.set(id, w);
    }
    // The window ended here too: Redis has started (or will start) a new one at the next hit. Hits of the old
    // window that never reached Redis (it was down) go with it, or a long outage would lock a client out for good.
    if (w.expiresAt <= now) {
      w.known = 0;
      w.pending = 0;
      w.expiresAt = now + ttl;
    }
    // Counted even while blocked, as the script counts every hit it is sent (and the exact mode sends every one).
    w.pending++;
    if (w.blockedUntil > now) return Promise.resolve(blocked(w, now));
    const totalHits = w.known + w.sending + w.pending;
    if (totalHits > limit) {
      // This hit goes to Redis too, which then blocks the client for every instance.
      w.blockedUntil = now + blockDuration;
      return Promise.resolve(blocked(w, now));
    }
    return Promise.resolve({
      totalHits,
      timeToExpire: Math.ceil((w.expiresAt - now) / 1000),
      isBlocked: false,
      timeToBlockExpire: 0,
    });
  }

  /** Sends every window's unsent hits and takes in the fleet's totals; one pass at a time. */
  sync(): Promise<void> {
    return (this.syncing ??= this.syncOnce().finally(() => (this.syncing = undefined)));
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    // Hand over what this instance admitted, so its share is not forgotten by the fleet's windows: a pass already
    // under way sent only what it found, so a second one sends what came after.
    await this.sync();
    await this.sync();
  }

  private async syncOnce(): Promise<void> {
    const now = this.now();
    const sends: Promise<void>[] = [];
    // Not connected: nothing is sent, so every unsent hit is surely still unsent, and is kept for the next pass.
    const connected = this.window.connected;
    let failed = 0;
    for (const [id, w] of this.windows) {
      // Hits of a window that has ended are dropped, not sent: Redis would count them in the window it starts.
      if (w.expiresAt <= now) w.pending = 0;
      if (w.pending === 0) {
        if (w.sending === 0 && w.expiresAt <= now && w.blockedUntil <= now) this.windows.delete(id);
        continue;
      }
      if (!connected) {
        failed++;
        continue;
      }
      const hits = w.pending;
      w.pending = 0;
      w.sending += hits;
      sends.push(
        withinDeadline(this.window.add(w.key, w.name, hits, w.limits), this.options.deadlineMs).then(
          (state) => {
            w.sending -= hits;
            this.learn(w, state);
          },
          () => {
            // Sent, and maybe applied: dropped rather than counted twice (see the class comment).
            w.sending -= hits;
            failed++;
          },
        ),
      );
    }
    await Promise.all(sends);
    if (failed) this.syncFailed(failed);
  }

  private learn(w: Entry, state: WindowState): void {
    const now = this.now();
    // Hits sent by a later pass and still in flight are in neither number; the next reply counts them.
    w.known = state.totalHits;
    w.expiresAt = now + state.timeToExpireMs;
    if (state.timeToBlockExpireMs > 0) w.blockedUntil = Math.max(w.blockedUntil, now + state.timeToBlockExpireMs);
  }

  private syncFailed(windows: number): void {
    this.options.onSyncError();
    if (this.now() - this.lastLogged < 10_000) return;
    this.lastLogged = this.now();
    this.logger.warn(`rate-limit sync to Redis failed for ${windows} client(s); limiting by this instance's counts`);
  }
}

function blocked(w: Entry, now: number): ThrottlerStorageRecord {
  return {
    totalHits: w.known + w.sending + w.pending,
    timeToExpire: Math.ceil(Math.max(0, w.expiresAt - now) / 1000),
    isBlocked: true,
    timeToBlockExpire: Math.ceil((w.blockedUntil - now) / 1000),
  };
}
