import { AsyncResource } from 'node:async_hooks';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { RedisConnections } from '../../redis';
import { routingOf } from '../routing/routing-data-source';
import { DbRequest, runInDbRequest } from './db-context';
import { SessionLsnStore } from './session-lsn-store';

export const DB_NODE_HEADER = 'x-db-node';

export interface DatabaseRequestContextOptions {
  /** The session a request reads and writes for; undefined for anonymous requests, which may read any healthy replica. */
  readonly sessionIdOf: (request: FastifyRequest) => string | undefined;
  /** Adds `X-Db-Node: primary | <replica>` to DB-backed responses. */
  readonly debugHeaders: boolean;
  readonly readYourWritesTtlSeconds: number;
  /** How long to wait for Redis when looking up or storing a session's position. */
  readonly redisDeadlineMs: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    dbRequest: DbRequest | null;
    dbAsyncScope: AsyncResource | null;
  }
}

/**
 * Gives every request its database context, and after a request that wrote (or read the primary on purpose),
 * stores the primary's WAL position for its session before the response leaves: the client cannot send its
 * next read before the position that read must reach is known to every instance.
 */
export function registerDatabaseRequestContext(
  app: NestFastifyApplication,
  options: DatabaseRequestContextOptions,
): void {
  const fastify = app.getHttpAdapter().getInstance();
  const { router } = routingOf(app.get(DataSource));
  const store = new SessionLsnStore(
    app.get(RedisConnections).client('sessions'),
    options.readYourWritesTtlSeconds,
    options.redisDeadlineMs,
  );
  const logger = new Logger('ReadYourWrites');
  fastify.decorateRequest('dbRequest', null);
  fastify.decorateRequest('dbAsyncScope', null);

  fastify.addHook('onRequest', (request, _reply, done) => {
    const db = new DbRequest({
      sessionId: () => options.sessionIdOf(request),
      lookup: (sessionId) => store.get(sessionId),
    });
    request.dbRequest = db;
    runInDbRequest(db, () => {
      request.dbAsyncScope = new AsyncResource('db-request');
      done();
    });
  });

  // Body parsing continues in the socket's async context; re-enter the request's before the handler runs
  // (the technique of @fastify/request-context).
  fastify.addHook('preValidation', (request, _reply, done) => {
    if (request.dbAsyncScope) request.dbAsyncScope.runInAsyncScope(done);
    else done();
  });

  const remember = async (sessionId: string): Promise<void> => {
    try {
      await store.remember(sessionId, await router.currentPrimaryLsn());
    } catch (err) {
      // The write is committed; failing the response now would invite a duplicate retry. Count and log instead.
      router.observer.sessionLsnNotRecorded();
      logger.warn(
        `could not record the session's write position; its next reads may be stale: ${(err as Error).message}`,
      );
    }
  };

  // Callback-style: most responses have nothing to record, and should not pay for a promise to say so.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const db = request.dbRequest;
    if (!db) return done(null, payload);
    if (options.debugHeaders && db.nodesUsed.size > 0) reply.header(DB_NODE_HEADER, [...db.nodesUsed].join(', '));
    const sessionId = db.primaryTouched ? options.sessionIdOf(request) : undefined;
    if (!sessionId) return done(null, payload);
    const next = () => done(null, payload);
    void remember(sessionId).then(next, next);
  });
}
