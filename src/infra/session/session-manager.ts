import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AppConfig, InjectConfig } from '../../config';
import './session.types';

@Injectable()
export class SessionManager {
  constructor(@InjectConfig() private readonly config: AppConfig) {}

  /** A new session id at every sign-in, so an id planted before login is worthless (no fixation). */
  async signIn(request: FastifyRequest, userId: string): Promise<void> {
    await request.session.regenerate();
    request.session.userId = userId;
  }

  async signOut(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (request.session.userId !== undefined) await request.session.destroy();
    // destroy() sends no clearing cookie of its own.
    void reply.clearCookie(this.config.session.cookieName, { path: '/' });
  }
}
