import { type ExecutionContext, Injectable } from '@nestjs/common';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerException,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { ThrottlerLimitDetail } from '@nestjs/throttler/dist/throttler.guard.interface';
import type { FastifyReply } from 'fastify';
import { MemoizedReflector } from '../http';
import { OPERATIONAL_ENDPOINT } from '../observability';

/**
 * ThrottlerGuard with the standard Retry-After header (named throttlers only get `Retry-After-<name>`),
 * skipping operational endpoints: a Prometheus server scraping 100 instances is one IP. Its route metadata
 * (limits, skips, trackers) is read once per route, not on every request (MemoizedReflector).
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
  ) {
    super(options, storage, new MemoizedReflector());
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return (
      this.reflector.getAllAndOverride<boolean>(OPERATIONAL_ENDPOINT, [context.getHandler(), context.getClass()]) ===
      true
    );
  }

  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const retryAfter = Math.max(1, detail.timeToBlockExpire);
    void context.switchToHttp().getResponse<FastifyReply>().header('retry-after', String(retryAfter));
    throw new ThrottlerException(`Too many requests; retry in ${retryAfter} s`);
  }
}
