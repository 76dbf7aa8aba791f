import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { InjectMetrics } from '../observability';
import { SessionRegistry } from './session-registry';
import { Sessions } from './sessions';
import './session.types';

/** Sign-in and sign-out. The session hooks (register-sessions.ts) set or clear the cookie to match. */
@Injectable()
export class SessionManager {
  private readonly created: Counter;

  constructor(
    private readonly sessions: Sessions,
    private readonly registry: SessionRegistry,
    @InjectMetrics() metrics: Registry,
  ) {
    this.created = new Counter({
      name: 'sessions_created_total',
      help: 'Sessions created at sign-in',
      registers: [metrics],
    });
  }

  /** A new session id at every sign-in, and the one the request came with ends, so a planted id is worthless (no fixation). */
  async signIn(request: FastifyRequest, userId: string): Promise<void> {
    await this.end(request);
    const session = await this.sessions.start(userId);
    try {
      // Untracked, logout-all and a password change could not end it: no cookie for it then.
      await this.registry.track(userId, session.id);
    } catch (err) {
      await this.sessions.end(session).catch(() => undefined);
      throw err;
    }
    request.session = session;
    this.created.inc();
  }

  async signOut(request: FastifyRequest): Promise<void> {
    const session = request.session;
    if (!session) return;
    await this.end(request);
    await this.registry.untrack(session.userId, session.id);
  }

  /** Ends every session of the signed-in user, on every device, this one included. */
  async signOutEverywhere(request: FastifyRequest, userId: string): Promise<void> {
    await this.registry.destroyAll(userId);
    await this.end(request);
  }

  /** After a password change: every other session ends, and this one continues under a new id. */
  async renewAfterCredentialChange(request: FastifyRequest, userId: string): Promise<void> {
    await this.registry.destroyAll(userId);
    await this.signIn(request, userId);
  }

  private async end(request: FastifyRequest): Promise<void> {
    const session = request.session;
    if (!session) return;
    await this.sessions.end(session);
    request.session = null;
  }
}
