import { ServiceUnavailableException } from '@nestjs/common';
import { RedisStore } from 'connect-redis';
import type { Session } from 'fastify';
import type { RedisClient } from '../redis';

type Callback = (err?: unknown) => void;

/** Redis key of a session: `sess:<id>`. */
export const SESSION_KEY_PREFIX = 'sess:';

/**
 * The connect-redis store, with Redis failures surfaced as 503s: a signed-in user hitting a
 * Redis outage gets "try again", never a 500 or a silent sign-out.
 */
export class RedisSessionStore {
  private readonly store: RedisStore;

  constructor(client: RedisClient, ttlSeconds: number) {
    this.store = new RedisStore({ client, prefix: SESSION_KEY_PREFIX, ttl: ttlSeconds });
  }

  get(sid: string, cb: (err: unknown, session?: Session | null) => void): void {
    this.store.get(sid).then((s: Session | undefined) => cb(null, s ?? null), (e: unknown) => cb(unavailable(e)));
  }

  set(sid: string, session: Session, cb: Callback): void {
    this.store.set(sid, session as never).then(() => cb(), (e: unknown) => cb(unavailable(e)));
  }

  destroy(sid: string, cb: Callback): void {
    this.store.destroy(sid).then(() => cb(), (e: unknown) => cb(unavailable(e)));
  }
}

export function unavailable(cause: unknown): ServiceUnavailableException {
  return new ServiceUnavailableException('The session store is unavailable; try again shortly', { cause });
}
