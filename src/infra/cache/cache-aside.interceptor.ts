import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { type AppConfig, InjectConfig } from '../../config';
import { CACHE_ASIDE, type CacheAsideOptions } from './cache-aside.options';
import { CacheAsideReader } from './cache-aside-reader';
import '../session/session.types';

@Injectable()
export class CacheAsideInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly cache: CacheAsideReader,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!this.config.cache.enabled) return next.handle();
    const options = this.reflector.get<CacheAsideOptions>(CACHE_ASIDE, context.getHandler());
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const load = () => lastValueFrom(next.handle());
    let key = options.key(request);
    if (options.scope === 'user') {
      const userId = request.session?.userId;
      // Nothing per-user is ever stored under a key another user could ask for.
      if (!userId) return from(load());
      key = `u:${userId}:${key}`;
    }
    const versionKey = options.versionKey?.(request) ?? key;
    const ttlMs = options.ttlMs?.(this.config) ?? this.config.cache.ttlMs;
    return from(
      this.cache.serve({ key, versionKey }, ttlMs, load, (outcome) => void reply.header('x-cache', outcome), reply),
    );
  }
}
