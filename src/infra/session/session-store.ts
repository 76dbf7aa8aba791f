import { Logger, ServiceUnavailableException } from '@nestjs/common';
import type { FastifySessionObject } from '@fastify/session';
import type { Session } from 'fastify';
import { type RedisClient, withinDeadline } from '../redis';

type Callback = (err?: unknown) => void;

// After a failed touch, this instance skips touches for a while (the sessions stay valid until their stored expiry).
const TOUCH_PAUSE_MS = 5000;

/** Redis key of a session: `sess:<id>`. */
export const SESSION_KEY_PREFIX = 'sess:';

// Sessions whose next save must reach a replica too: losing a new sign-in in a failover is a visible sign-out.
const replicateOnSave = new WeakSet<Session>();

/** Asks the store to WAIT for one replica when it next saves this session (at sign-in). */
export function replicateOnNextSave(session: Session): void {
  replicateOnSave.add(session);
}

export interface RedisSessionStoreOptions {
  readonly ttlSeconds: number;
  readonly deadlineMs: number;
  /** How long a sign-in's save waits for one replica (WAIT 1); 0 skips WAIT. */
  readonly replicaWaitMs: number;
  /** An unchanged session's expiry is written back at most this often (connect-mongo's `touchAfter`); 0: always. */
  readonly touchAfterSeconds: number;
}

/**
 * The @fastify/session store: one JSON value per session under `sess:<id>`, expiring with the cookie.
 * Hand-written (GET, SET EX, DEL) because the maintained Redis store, connect-redis, is an express-session
 * store that installs express-session into a Fastify app. Redis failures surface as 503s: a signed-in user
 * hitting a Redis outage gets "try again", never a 500 or a silent sign-out.
 *
 * Rolling sessions (`rolling: true`) call `set` on every response only to push the expiry forward. For a session
 * whose content did not change, that write is a touch, and it is treated as one:
 * - it is skipped while the stored expiry is less than `touchAfterSeconds` old, so a busy user costs one write
 *   per interval, not one per request; the key may then expire up to that long before the re-sent cookie, which
 *   is the bound on how much sooner an idle session ends than SESSION_TTL_SECONDS says;
 * - a touch that fails does not fail the request: the stored session is still valid until its stored expiry, so
 *   a Redis that refuses writes for a moment (a failover, NOREPLICAS) does not turn signed-in reads into 503s; and
 *   this instance then skips touches for a few seconds, so a slow Redis costs one request its deadline, not all.
 */
export class RedisSessionStore {
  private readonly logger = new Logger('Sessions');
  private lastTouchWarning = 0;
  private touchesPausedUntil = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly options: RedisSessionStoreOptions,
  ) {}

  get(sid: string, cb: (err: unknown, session?: Session | null) => void): void {
    this.bounded(this.client.get(SESSION_KEY_PREFIX + sid)).then(
      (raw) => cb(null, raw == null ? null : (JSON.parse(raw) as Session)),
      (e: unknown) => cb(unavailable(e)),
    );
  }

  set(sid: string, session: Session, cb: Callback): void {
    const ttl = this.ttlOf(session);
    const key = SESSION_KEY_PREFIX + sid;
    const touch = ttl > 0 && isTouch(session);
    if (touch && (!this.touchDue(session) || Date.now() < this.touchesPausedUntil)) return cb();
    const write: Promise<unknown> =
      ttl > 0 ? this.client.set(key, JSON.stringify(session), 'EX', ttl) : this.client.del(key);
    const replicate = ttl > 0 && replicateOnSave.delete(session) && this.options.replicaWaitMs > 0;
    this.bounded(write)
      .then(() => (replicate ? this.waitForReplica() : undefined))
      .then(
        () => cb(),
        (e: unknown) => (touch ? this.touchFailed(e, cb) : cb(unavailable(e))),
      );
  }

  destroy(sid: string, cb: Callback): void {
    this.bounded(this.client.del(SESSION_KEY_PREFIX + sid)).then(
      () => cb(),
      (e: unknown) => cb(unavailable(e)),
    );
  }

  /**
   * WAIT counts the writes of its own connection, and this client is one connection. A slow replica only costs the
   * bound (the session is on the master); a master lost before answering fails the sign-in with a 503 to retry.
   */
  private async waitForReplica(): Promise<void> {
    const { replicaWaitMs, deadlineMs } = this.options;
    const replicas = await withinDeadline(this.client.wait(1, replicaWaitMs), replicaWaitMs + deadlineMs);
    if (replicas < 1) this.logger.warn(`a new session reached no replica within ${replicaWaitMs} ms`);
  }

  /** The stored copy's expiry (the cookie's expiry when it was last written) is older than `touchAfterSeconds`. */
  private touchDue(session: Session): boolean {
    // @fastify/session keeps the restored copy's expiry as originalExpires; its types leave it out.
    const storedExpiry = (session.cookie as { originalExpires?: Date }).originalExpires?.getTime();
    const maxAge = session.cookie.originalMaxAge;
    if (storedExpiry === undefined || !maxAge) return true;
    const writtenAt = storedExpiry - maxAge;
    return Date.now() - writtenAt >= this.options.touchAfterSeconds * 1000;
  }

  private touchFailed(err: unknown, cb: Callback): void {
    // A Redis that is slow rather than refusing would cost every signed-in request the reply deadline: pause.
    this.touchesPausedUntil = Date.now() + TOUCH_PAUSE_MS;
    if (Date.now() - this.lastTouchWarning > 10_000) {
      this.lastTouchWarning = Date.now();
      this.logger.warn(`could not push a session's expiry forward, serving the request anyway: ${String(err)}`);
    }
    cb();
  }

  /** Seconds until the cookie expires (the key must not outlive it), else the configured TTL. */
  private ttlOf(session: Session): number {
    const expires = session.cookie?.expires;
    if (!expires) return this.options.ttlSeconds;
    return Math.ceil((new Date(expires).getTime() - Date.now()) / 1000);
  }

  private bounded<T>(work: Promise<T>): Promise<T> {
    return withinDeadline(work, this.options.deadlineMs);
  }
}

/** A rolling save of a restored session whose content is unchanged: only its expiry would move. */
function isTouch(session: Session): boolean {
  // Typed as the session's data, but what the plugin hands the store is its session object, with isModified().
  const s = session as Partial<Pick<FastifySessionObject, 'isModified'>>;
  // Restored from the store (it has a stored expiry) and unchanged since: a brand-new session is never a touch.
  const restored = (session.cookie as { originalExpires?: Date }).originalExpires !== undefined;
  return restored && typeof s.isModified === 'function' && !s.isModified() && !replicateOnSave.has(session);
}

export function unavailable(cause: unknown): ServiceUnavailableException {
  return new ServiceUnavailableException('The session store is unavailable; try again shortly', { cause });
}
