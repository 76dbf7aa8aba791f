import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '../../config';
import { REDIS_CLIENT, type RedisClient } from '../redis';
import { RedisSessionStore } from './session-store';
import './session.types';

/** Cookie sessions stored in Redis, so any instance can serve any request. */
export async function registerSessions(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const { cookieName, cookieSecure, secret, ttlSeconds } = config.session;
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret,
    cookieName,
    store: new RedisSessionStore(app.get<RedisClient>(REDIS_CLIENT), ttlSeconds, config.redis.commandTimeoutMs),
    // No store write and no cookie until someone signs in.
    saveUninitialized: false,
    // Each response re-saves the session and re-sends the cookie, so expiry rolls forward while in use.
    rolling: true,
    cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: cookieSecure, maxAge: ttlSeconds * 1000 },
  });
}
