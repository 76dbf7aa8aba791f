import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { defineScript, type RedisClient, type RedisScript } from '../redis';

/**
 * One fixed window per (client, limit) in Redis: add `hits` to its counter and answer the total, the window's
 * time left and the block. The semantics of @nestjs/throttler's storages (and of @nest-lab/throttler-storage-redis,
 * whose script this one follows): a total over the limit sets a block for blockDuration, and the first hit after
 * the block has expired starts a new window. Unlike that library, the script goes by SHA (defineScript: EVALSHA,
 * EVAL once after NOSCRIPT), not as its whole text on every call, and it takes a count, so one call can carry
 * many requests' hits (LocallySyncedStorage).
 */
const WINDOW_LUA = `
local hits = redis.call('INCRBY', KEYS[1], tonumber(ARGV[4]))
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
local blockTtl = redis.call('PTTL', KEYS[2])
if blockTtl <= 0 and hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], 1, 'PX', ARGV[3])
  blockTtl = tonumber(ARGV[3])
end
return { hits, ttl, blockTtl > 0 and blockTtl or 0 }
`;

export interface WindowState {
  readonly totalHits: number;
  readonly timeToExpireMs: number;
  /** 0 when not blocked. */
  readonly timeToBlockExpireMs: number;
}

export class RedisWindow {
  private readonly script: RedisScript;

  constructor(private readonly client: RedisClient) {
    this.script = defineScript(client, 'rateLimitWindow', 2, WINDOW_LUA);
  }

  /** Whether a command would be sent now. Not connected, the client refuses it at once (no offline queue). */
  get connected(): boolean {
    return this.client.status === 'ready';
  }

  async add(
    key: string,
    name: string,
    hits: number,
    limits: { ttl: number; limit: number; blockDuration: number },
  ): Promise<WindowState> {
    // One hash tag per window, so the two keys live on one slot of a Redis Cluster.
    const tag = `{rl:${name}:${key}}`;
    const reply = await this.script(
      [`${tag}:hits`, `${tag}:blocked`],
      [limits.ttl, limits.limit, limits.blockDuration, hits],
    );
    const [totalHits, timeToExpireMs, timeToBlockExpireMs] = reply as [number, number, number];
    if (![totalHits, timeToExpireMs, timeToBlockExpireMs].every(Number.isInteger))
      throw new TypeError(`unexpected rate-limit script reply: ${JSON.stringify(reply)}`);
    return { totalHits, timeToExpireMs, timeToBlockExpireMs };
  }
}

export function toRecord(state: WindowState): ThrottlerStorageRecord {
  return {
    totalHits: state.totalHits,
    timeToExpire: Math.ceil(state.timeToExpireMs / 1000),
    isBlocked: state.timeToBlockExpireMs > 0,
    timeToBlockExpire: Math.ceil(state.timeToBlockExpireMs / 1000),
  };
}

/** Every check is a round trip to Redis: exact across instances. For the credential limits. */
export class ExactRedisStorage implements ThrottlerStorage {
  constructor(private readonly window: RedisWindow) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    name: string,
  ): Promise<ThrottlerStorageRecord> {
    return toRecord(await this.window.add(key, name, 1, { ttl, limit, blockDuration }));
  }
}
