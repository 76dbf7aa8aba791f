import {
  type CircuitBreaker,
  defineScript,
  execOrThrow,
  type RedisClient,
  type RedisScript,
  withinDeadline,
} from '../redis';

/**
 * Where an entry lives and which version counter guards it. An entity guards itself
 * (`article:<id>`); list pages share one counter (`articles:list`), so one INCR retires every page.
 */
export interface CacheRef {
  readonly key: string;
  readonly versionKey: string;
}

/** A cached HTTP outcome: 200 with a body, or a negatively cached 404. */
export interface CachedResponse {
  readonly status: number;
  readonly body: string;
}

/** An invalidation's floor when the commit's WAL position could not be read: fills go to the primary instead. */
export const READ_FROM_PRIMARY = 'primary';

export type Lookup =
  | { readonly kind: 'hit'; readonly response: CachedResponse }
  /**
   * `version` must be passed back to storeIfCurrent; `minLsn` is the last recent invalidation's WAL position (or
   * READ_FROM_PRIMARY); `leased`: some loader holds the key's lease right now.
   */
  | { readonly kind: 'miss'; readonly version: string; readonly minLsn?: string; readonly leased: boolean }
  | { readonly kind: 'bypass' };

const entryKey = (key: string) => `c:e:${key}`;
const versionKey = (key: string) => `c:v:${key}`;
const markerKey = (key: string) => `c:m:${key}`;
const leaseKey = (key: string) => `c:l:${key}`;

// Version counters outlive any entry by far, so a counter that expires and restarts at 0 cannot match a live entry.
const VERSION_TTL_MS = 7 * 24 * 3600 * 1000;

// Stores only if no invalidation bumped the version since the caller's lookup: the "stale set" that
// Facebook's memcache leases prevent. Releases the caller's lease either way.
const STORE_IF_CURRENT = `
local current = redis.call('GET', KEYS[2]) or '0'
local stored = 0
if current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  stored = 1
end
if redis.call('GET', KEYS[3]) == ARGV[4] then redis.call('DEL', KEYS[3]) end
return stored`;

const RELEASE_LEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Cache-aside storage on Redis, hand-written because cache-manager 7 cannot do two things this needs:
 * an atomic "set only if nothing was invalidated since my read" (its wrap() coalesces only in one
 * process), and a hit in one round trip that also checks the version (one MGET).
 * Every call goes through the circuit breaker and a reply deadline (CACHE_TIMEOUT_MS); any failure
 * is reported as a bypass, never thrown, so a Redis outage only costs cache hits.
 */
export class VersionedCacheStore {
  private readonly storeScript: RedisScript;
  private readonly releaseScript: RedisScript;

  constructor(
    private readonly redis: RedisClient,
    private readonly breaker: CircuitBreaker,
    private readonly timeoutMs: number,
  ) {
    this.storeScript = defineScript(redis, 'cacheStoreIfCurrent', 3, STORE_IF_CURRENT);
    this.releaseScript = defineScript(redis, 'cacheReleaseLease', 1, RELEASE_LEASE);
  }

  async lookup(ref: CacheRef): Promise<Lookup> {
    const values = await this.guard(() =>
      this.redis.mget(entryKey(ref.key), versionKey(ref.versionKey), markerKey(ref.versionKey), leaseKey(ref.key)),
    );
    if (!values) return { kind: 'bypass' };
    const [entry, version = null, marker = null, lease = null] = values;
    const current = version ?? '0';
    if (entry) {
      const decoded = decode(entry);
      if (decoded?.version === current) return { kind: 'hit', response: decoded.response };
    }
    return { kind: 'miss', version: current, minLsn: marker ?? undefined, leased: lease !== null };
  }

  /** One loader per key across all instances: true for the caller that should load, undefined when Redis is unavailable. */
  async acquireLease(ref: CacheRef, token: string, leaseMs: number): Promise<boolean | undefined> {
    const reply = await this.guard(() => this.redis.set(leaseKey(ref.key), token, 'PX', leaseMs, 'NX'));
    return reply === undefined ? undefined : reply === 'OK';
  }

  /** Gives the lease back early (the load failed), so waiters on other instances stop waiting for a value. */
  async releaseLease(ref: CacheRef, token: string): Promise<void> {
    await this.guard(() => this.releaseScript([leaseKey(ref.key)], [token]));
  }

  /** Stores, unless the entry was invalidated since `version` was read. undefined when Redis is unavailable. */
  async storeIfCurrent(
    ref: CacheRef,
    version: string,
    response: CachedResponse,
    ttlMs: number,
    leaseToken: string,
  ): Promise<boolean | undefined> {
    const stored = await this.guard(() =>
      this.storeScript(
        [entryKey(ref.key), versionKey(ref.versionKey), leaseKey(ref.key)],
        [version, encode(version, response), Math.max(1, Math.round(ttlMs)), leaseToken],
      ),
    );
    return stored === undefined ? undefined : stored === 1;
  }

  /**
   * After a commit: bump the version of every affected counter (so in-flight fills are refused and
   * old entries stop matching), drop the entries, and leave a marker with the commit's WAL position (or
   * READ_FROM_PRIMARY) so the next fill reads from a replica that has replayed it, or from the primary.
   */
  async invalidate(
    keys: readonly string[],
    versionKeys: readonly string[],
    lsn: string | undefined,
    markerMs: number,
  ): Promise<boolean> {
    const done = await this.guard(() => {
      const tx = this.redis.multi();
      for (const vk of versionKeys) {
        tx.incr(versionKey(vk)).pexpire(versionKey(vk), VERSION_TTL_MS);
        if (lsn) tx.set(markerKey(vk), lsn, 'PX', markerMs);
      }
      if (keys.length) tx.del(...keys.map(entryKey));
      return execOrThrow(tx);
    });
    return done !== undefined;
  }

  private async guard<T>(call: () => Promise<T>): Promise<T | undefined> {
    if (!this.breaker.allow()) return undefined;
    try {
      const result = await withinDeadline(call(), this.timeoutMs);
      this.breaker.success();
      return result;
    } catch {
      this.breaker.failure();
      return undefined;
    }
  }
}

// `<version>\n<status>\n<json>`: the hit path splits two newlines instead of parsing and re-serializing the body.
function encode(version: string, { status, body }: CachedResponse): string {
  return `${version}\n${status}\n${body}`;
}

function decode(raw: string): { version: string; response: CachedResponse } | undefined {
  const a = raw.indexOf('\n');
  const b = raw.indexOf('\n', a + 1);
  if (a < 0 || b < 0) return undefined;
  return { version: raw.slice(0, a), response: { status: Number(raw.slice(a + 1, b)), body: raw.slice(b + 1) } };
}
