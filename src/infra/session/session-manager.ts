import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { type AppConfig, InjectConfig } from '../../config';
import { InjectMetrics } from '../observability';
import './session.types';

@Injectable()
export class SessionManager {
  private readonly created: Counter;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    @InjectMetrics() registry: Registry,
  ) {
    this.created = new Counter({ name: 'sessions_created_total', help: 'Sessions created at sign-in', registers: [registry] });
  }

  /** A new session id at every sign-in, so an id planted before login is worthless (no fixation). */
  async signIn(request: FastifyRequest, userId: string): Promise<void> {
    await request.session.regenerate();
    request.session.userId = userId;
    this.created.inc();
  }

  async signOut(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (request.session.userId !== undefined) await request.session.destroy();
    // destroy() sends no clearing cookie of its own.
    void reply.clearCookie(this.config.session.cookieName, { path: '/' });
  }
}
