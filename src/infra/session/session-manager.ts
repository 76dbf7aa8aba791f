import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { type AppConfig, InjectConfig } from '../../config';
import { InjectMetrics } from '../observability';
import { SessionRegistry } from './session-registry';
import { replicateOnNextSave } from './session-store';
import './session.types';

@Injectable()
export class SessionManager {
  private readonly created: Counter;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly registry: SessionRegistry,
    @InjectMetrics() metrics: Registry,
  ) {
    this.created = new Counter({
      name: 'sessions_created_total',
      help: 'Sessions created at sign-in',
      registers: [metrics],
    });
  }

  /** A new session id at every sign-in, so an id planted before login is worthless (no fixation). */
  async signIn(request: FastifyRequest, userId: string): Promise<void> {
    await request.session.regenerate();
    request.session.userId = userId;
    replicateOnNextSave(request.session);
    await this.registry.track(userId, request.session.sessionId);
    this.created.inc();
  }

  async signOut(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { userId, sessionId } = request.session;
    if (userId !== undefined) {
      await request.session.destroy();
      await this.registry.untrack(userId, sessionId);
    }
    this.clearCookie(reply);
  }

  /** Ends every session of the signed-in user, on every device, this one included. */
  async signOutEverywhere(request: FastifyRequest, reply: FastifyReply, userId: string): Promise<void> {
    await this.registry.destroyAll(userId);
    await request.session.destroy();
    this.clearCookie(reply);
  }

  /** After a password change: every other session ends, and this one continues under a new id. */
  async renewAfterCredentialChange(request: FastifyRequest, userId: string): Promise<void> {
    await this.registry.destroyAll(userId);
    await this.signIn(request, userId);
  }

  private clearCookie(reply: FastifyReply): void {
    // destroy() sends no clearing cookie of its own.
    void reply.clearCookie(this.config.session.cookieName, { path: '/' });
  }
}
