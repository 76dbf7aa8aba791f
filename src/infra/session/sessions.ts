import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Signer } from '@fastify/cookie';
import { type AppConfig, InjectConfig } from '../../config';
import { RedisConnections } from '../redis';
import { RedisSessionStore } from './session-store';
import type { Session } from './session.types';

/**
 * Cookie sessions stored in Redis, so any instance can serve any request: the cookie carries a random id and its
 * HMAC, Redis the session. Only a sign-in creates one (no session, no store write and no cookie before it).
 *
 * Hand-written rather than @fastify/session, which builds a session object for every request without a cookie,
 * signing a fresh random id and hashing the object twice to learn later that nothing changed: about 15 µs of a
 * cached read's 130 on the benchmark machine (docs/benchmarks.md), spent on the anonymous requests that are most
 * of the traffic. Here a request without the cookie costs one property read. The parts worth a library still come
 * from one: @fastify/cookie parses and serializes the cookies and signs the id.
 */
@Injectable()
export class Sessions {
  private readonly signer: Signer;
  private readonly store: RedisSessionStore;

  constructor(connections: RedisConnections, @InjectConfig() config: AppConfig) {
    const { secret, ttlSeconds, touchAfterSeconds } = config.session;
    this.signer = new Signer(secret, 'sha256');
    this.store = new RedisSessionStore(connections.client('sessions'), {
      ttlSeconds,
      touchAfterSeconds,
      deadlineMs: config.redis.commandTimeoutMs,
      replicaWaitMs: config.redis.replicaWaitMs,
    });
  }

  /** The session a cookie names, or null for a forged cookie or a session that has ended. A Redis failure is a 503. */
  async restore(cookie: string): Promise<Session | null> {
    const { valid, value: id } = this.signer.unsign(cookie);
    if (!valid || !id) return null;
    const stored = await this.store.load(id);
    return stored && { id, userId: stored.userId, cookie, writtenAt: stored.writtenAt };
  }

  /** A new session under a new random id (192 bits), stored and waited on to reach a replica (a sign-in). */
  async start(userId: string): Promise<Session> {
    const id = randomBytes(24).toString('base64url');
    const writtenAt = Date.now();
    await this.store.save(id, { userId, writtenAt }, { replicate: true });
    return { id, userId, cookie: this.signer.sign(id), writtenAt };
  }

  async end(session: Session): Promise<void> {
    await this.store.destroy(session.id);
  }

  /** Pushes a signed-in session's expiry forward when due; never fails the request. False: the session has ended. */
  touch(session: Session): Promise<boolean> {
    return this.store.touch(session.id, session);
  }
}
