import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '../../config';
import { RedisConnections } from '../redis';
import { RedisSessionStore } from './session-store';
import './session.types';

/** Cookie sessions stored in Redis, so any instance can serve any request. */
export async function registerSessions(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const { cookieName, cookieSecure, secret, ttlSeconds, touchAfterSeconds } = config.session;
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret,
    cookieName,
    store: new RedisSessionStore(app.get(RedisConnections).client('sessions'), {
      ttlSeconds,
      deadlineMs: config.redis.commandTimeoutMs,
      replicaWaitMs: config.redis.replicaWaitMs,
      touchAfterSeconds,
    }),
    // No store write and no cookie until someone signs in.
    saveUninitialized: false,
    // Each response re-sends the cookie and offers the session to the store, so expiry rolls forward while in use;
    // the store writes an unchanged one back at most every SESSION_TOUCH_AFTER_SECONDS.
    rolling: true,
    cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: cookieSecure, maxAge: ttlSeconds * 1000 },
  });
}
