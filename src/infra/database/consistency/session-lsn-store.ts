import { createHash } from 'node:crypto';
import type { RedisClient } from '../../redis';
import { type Lsn, lsnFromSortKey, lsnSortKey } from '../topology/lsn';

// Keeps the highest position ever stored, so two instances recording the same session's writes out of order
// can never move it backwards (which would let a read reach a replica missing the later write).
const REMEMBER_HIGHEST = `
local current = redis.call('GET', KEYS[1])
if (not current) or current < ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1`;

/**
 * Each session's last write position, in Redis so that every API instance sees it (GitLab stores it the same
 * way). It expires after the TTL: by then every replica still in rotation (lag below the limit) has the write.
 */
export class SessionLsnStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly ttlSeconds: number,
  ) {}

  async get(sessionId: string): Promise<Lsn | undefined> {
    const value = await this.redis.get(keyFor(sessionId));
    return value === null ? undefined : lsnFromSortKey(value);
  }

  async remember(sessionId: string, lsn: Lsn): Promise<void> {
    await this.redis.eval(REMEMBER_HIGHEST, { keys: [keyFor(sessionId)], arguments: [lsnSortKey(lsn), String(this.ttlSeconds * 1000)] });
  }
}

// A session id is a credential: keep it out of key names, which show up in MONITOR and SLOWLOG.
function keyFor(sessionId: string): string {
  return `ryw:${createHash('sha256').update(sessionId).digest('base64url').slice(0, 32)}`;
}
