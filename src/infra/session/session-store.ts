import { Logger, ServiceUnavailableException } from '@nestjs/common';
import { type RedisClient, withinDeadline } from '../redis';

// After a failed touch, this instance skips touches for a while (the sessions stay valid until their stored expiry).
const TOUCH_PAUSE_MS = 5000;

/** Redis key of a session: `sess:<id>`. */
export const SESSION_KEY_PREFIX = 'sess:';

/** What is stored under `sess:<id>`, as JSON. */
export interface StoredSession {
  readonly userId: string;
  /** Epoch ms of this write. */
  readonly writtenAt: number;
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
 * Sessions in Redis: one JSON value per session under `sess:<id>`, expiring SESSION_TTL_SECONDS after its last
 * write. Redis failures surface as 503s: a signed-in user hitting a Redis outage gets "try again", never a 500 or a
 * silent sign-out.
 *
 * Sessions roll: every signed-in response re-sends the cookie with a fresh expiry, and offers the session for a
 * write-back (`touch`) that only pushes the key's expiry forward. A touch:
 * - is skipped while the stored copy is less than `touchAfterSeconds` old, so a busy user costs one write per
 *   interval, not one per request; the key may then expire up to that long before the re-sent cookie, which is the
 *   bound on how much sooner an idle session ends than SESSION_TTL_SECONDS says;
 * - never fails the request: the stored session is still valid until its stored expiry, so a Redis that refuses
 *   writes for a moment (a failover, NOREPLICAS) does not turn signed-in reads into 503s; and this instance then
 *   skips touches for a few seconds, so a slow Redis costs one request its deadline, not all of them.
 */
export class RedisSessionStore {
  private readonly logger = new Logger('Sessions');
  private lastTouchWarning = 0;
  private touchesPausedUntil = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly options: RedisSessionStoreOptions,
  ) {}

  /** The stored session, or null when there is none (ended, expired, or not a session this code wrote). */
  async load(id: string): Promise<StoredSession | null> {
    const raw = await this.bounded(this.client.get(SESSION_KEY_PREFIX + id));
    return raw === null ? null : parseStored(raw);
  }

  /**
   * Writes a session. `replicate` (a sign-in): also WAIT for one replica, since losing a new sign-in in a failover
   * is a visible sign-out. WAIT counts the writes of its own connection, and this client is one connection. A slow
   * replica only costs the bound (the session is on the master); a master lost before answering is a 503 to retry.
   */
  async save(id: string, session: StoredSession, { replicate = false } = {}): Promise<void> {
    const { ttlSeconds, replicaWaitMs, deadlineMs } = this.options;
    await this.bounded(this.client.set(SESSION_KEY_PREFIX + id, JSON.stringify(session), 'EX', ttlSeconds));
    if (!replicate || replicaWaitMs <= 0) return;
    let replicas: number;
    try {
      replicas = await withinDeadline(this.client.wait(1, replicaWaitMs), replicaWaitMs + deadlineMs);
    } catch (err) {
      throw unavailable(err);
    }
    if (replicas < 1) this.logger.warn(`a new session reached no replica within ${replicaWaitMs} ms`);
  }

  /**
   * Pushes an unchanged session's expiry forward, if its stored copy is old enough (see the class). Never throws.
   * False when the session turned out to be gone: it was ended (a sign-out, a password change) while this request
   * was in flight. The write is SET XX, so a touch never brings an ended session back.
   */
  async touch(id: string, session: StoredSession): Promise<boolean> {
    const now = Date.now();
    if (now - session.writtenAt < this.options.touchAfterSeconds * 1000 || now < this.touchesPausedUntil) return true;
    const value = JSON.stringify({ userId: session.userId, writtenAt: now });
    try {
      const reply = await this.bounded(
        this.client.set(SESSION_KEY_PREFIX + id, value, 'EX', this.options.ttlSeconds, 'XX'),
      );
      return reply !== null;
    } catch (err) {
      this.touchFailed(err);
      return true;
    }
  }

  async destroy(id: string): Promise<void> {
    await this.bounded(this.client.del(SESSION_KEY_PREFIX + id));
  }

  private touchFailed(err: unknown): void {
    // A Redis that is slow rather than refusing would cost every signed-in request the reply deadline: pause.
    this.touchesPausedUntil = Date.now() + TOUCH_PAUSE_MS;
    if (Date.now() - this.lastTouchWarning > 10_000) {
      this.lastTouchWarning = Date.now();
      const cause = err instanceof ServiceUnavailableException ? err.cause : err;
      this.logger.warn(`could not push a session's expiry forward, serving the request anyway: ${String(cause)}`);
    }
  }

  private async bounded<T>(work: Promise<T>): Promise<T> {
    try {
      return await withinDeadline(work, this.options.deadlineMs);
    } catch (err) {
      throw unavailable(err);
    }
  }
}

/**
 * A stored value this code can use, else null: a value that is not JSON or has no user id is no session (a
 * sign-in again), never a 500. A value without `writtenAt` (written by @fastify/session, which this replaced) is
 * a session whose touch is due, so it is rewritten in this form on its next request.
 */
function parseStored(raw: string): StoredSession | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { userId, writtenAt } = value as Partial<Record<keyof StoredSession, unknown>>;
  if (typeof userId !== 'string' || userId === '') return null;
  return { userId, writtenAt: typeof writtenAt === 'number' ? writtenAt : 0 };
}

export function unavailable(cause: unknown): ServiceUnavailableException {
  return new ServiceUnavailableException('The session store is unavailable; try again shortly', { cause });
}
