import fastifyCookie from '@fastify/cookie';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config';
import { Sessions } from './sessions';
import type { Session } from './session.types';

/**
 * Restores the session a request's cookie names, and after the handler, keeps the cookie in step with it:
 * - a session (restored, or started at sign-in): the cookie is sent again with a fresh expiry, so a session in use
 *   does not end (rolling), and a restored one is offered to the store for a touch;
 * - a cookie but no session (forged, ended, expired, or signed out by this request): the cookie is cleared, but
 *   not when the store could not be asked (Redis down: a 503, and the session is still there when it is back);
 * - neither: nothing, which is the common case, and costs one property read each way.
 */
export async function registerSessions(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const { cookieName, cookieSecure, ttlSeconds } = config.session;
  const sessions = app.get(Sessions);
  const fastify = app.getHttpAdapter().getInstance();
  await app.register(fastifyCookie);
  fastify.decorateRequest('session', null);
  // Requests whose cookie could not be checked because the store failed (rare, so kept off the request object).
  const unchecked = new WeakSet<FastifyRequest>();

  fastify.addHook('onRequest', (request, _reply, done) => {
    const cookie = request.cookies[cookieName];
    if (cookie === undefined) return done();
    void sessions.restore(cookie).then(
      (session) => {
        request.session = session;
        done();
      },
      (err: unknown) => {
        unchecked.add(request);
        done(err as Error);
      },
    );
  });

  const clear = (reply: FastifyReply) => void reply.clearCookie(cookieName, { path: '/' });
  const resend = (reply: FastifyReply, session: Session) =>
    void reply.setCookie(cookieName, session.cookie, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: cookieSecure,
      expires: new Date(Date.now() + ttlSeconds * 1000),
    });

  fastify.addHook('onSend', (request, reply, payload, done) => {
    const { session } = request;
    // Undefined for requests rejected before the cookie parser's onRequest hook ran (the router's 400s).
    const sent = request.cookies?.[cookieName];
    if (!session) {
      // Not when the store could not be asked (a 503): that session may well be alive, and the cookie must survive.
      if (sent !== undefined && !unchecked.has(request)) clear(reply);
      return done(null, payload);
    }
    // Started by this request: written at sign-in.
    if (session.cookie !== sent) {
      resend(reply, session);
      return done(null, payload);
    }
    // Restored: written back if its touch is due, and the cookie re-sent only if the session did not end meanwhile.
    const next = (alive: boolean) => {
      if (alive) resend(reply, session);
      else clear(reply);
      done(null, payload);
    };
    void sessions.touch(session).then(next, () => next(true));
  });
}
