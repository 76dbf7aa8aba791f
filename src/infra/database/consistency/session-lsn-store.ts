import { createHash } from 'node:crypto';
import { defineScript, type RedisClient, type RedisScript, withinDeadline } from '../../redis';
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
  private readonly rememberHighest: RedisScript;

  constructor(
    private readonly redis: RedisClient,
    private readonly ttlSeconds: number,
    private readonly deadlineMs: number,
  ) {
    this.rememberHighest = defineScript(redis, 'rywRememberHighest', 1, REMEMBER_HIGHEST);
  }

  async get(sessionId: string): Promise<Lsn | undefined> {
    const value = await withinDeadline(this.redis.get(keyFor(sessionId)), this.deadlineMs);
    return value === null ? undefined : lsnFromSortKey(value);
  }

  async remember(sessionId: string, lsn: Lsn): Promise<void> {
    const remember = this.rememberHighest([keyFor(sessionId)], [lsnSortKey(lsn), this.ttlSeconds * 1000]);
    await withinDeadline(remember, this.deadlineMs);
  }
}

// A session id is a credential: keep it out of key names, which show up in MONITOR and SLOWLOG.
function keyFor(sessionId: string): string {
  return `ryw:${createHash('sha256').update(sessionId).digest('base64url').slice(0, 32)}`;
}
