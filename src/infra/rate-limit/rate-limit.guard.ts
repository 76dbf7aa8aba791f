import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerException,
  ThrottlerGuard,
  type ThrottlerGenerateKeyFunction,
  type ThrottlerGetTrackerFunction,
  type ThrottlerModuleOptions,
  type ThrottlerOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import {
  THROTTLER_BLOCK_DURATION,
  THROTTLER_KEY_GENERATOR,
  THROTTLER_LIMIT,
  THROTTLER_SKIP,
  THROTTLER_TRACKER,
  THROTTLER_TTL,
} from '@nestjs/throttler/dist/throttler.constants';
import type { ThrottlerLimitDetail, ThrottlerRequest } from '@nestjs/throttler/dist/throttler.guard.interface';
import type { FastifyReply } from 'fastify';
import { OPERATIONAL_ENDPOINT } from '../observability';

/** One limit as it applies to one route: ThrottlerGuard's request, less the request's context. */
type PlannedLimit = Omit<ThrottlerRequest, 'context'> & { readonly skipIf?: ThrottlerOptions['skipIf'] };

/** The limits of a route, or `library` when a setting is computed per request (a function): ThrottlerGuard's path. */
type RoutePlan = readonly PlannedLimit[] | 'library';

/**
 * ThrottlerGuard with the standard Retry-After header (named throttlers only get `Retry-After-<name>`), skipping
 * operational endpoints: a Prometheus server scraping 100 instances is one IP.
 *
 * Which limits apply to a route, and their settings, are worked out once per route (`plan`) and kept, where
 * ThrottlerGuard works them out on every request: about 16 reflect-metadata lookups under freshly concatenated
 * keys and four awaits per limit, some 5 µs of a cached read (docs/benchmarks.md). Counting, headers and the 429
 * stay ThrottlerGuard's (`handleRequest`), and a route whose limits are functions of the request takes its path.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private readonly plans = new WeakMap<Targets[1], Map<Targets[0], RoutePlan>>();

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
  ) {
    // Plain: with the plans below, it is asked once per route.
    super(options, storage, new Reflector());
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const plan = this.planOf(context);
    if (plan === 'library') return super.canActivate(context);
    for (const limit of plan) {
      if (limit.skipIf?.(context)) continue;
      // True, or throws the 429.
      await this.handleRequest({ context, ...limit });
    }
    return true;
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return this.reflector.getAllAndOverride<boolean>(OPERATIONAL_ENDPOINT, targetsOf(context)) === true;
  }

  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const retryAfter = Math.max(1, detail.timeToBlockExpire);
    void context.switchToHttp().getResponse<FastifyReply>().header('retry-after', String(retryAfter));
    throw new ThrottlerException(`Too many requests; retry in ${retryAfter} s`);
  }

  private planOf(context: ExecutionContext): RoutePlan {
    const [handler, controller] = targetsOf(context);
    let byHandler = this.plans.get(controller);
    if (!byHandler) this.plans.set(controller, (byHandler = new Map<Targets[0], RoutePlan>()));
    let plan = byHandler.get(handler);
    if (!plan) byHandler.set(handler, (plan = this.plan(context)));
    return plan;
  }

  /** ThrottlerGuard.canActivate's reading of the route's metadata and the module's options, done once. */
  private plan(context: ExecutionContext): RoutePlan {
    const targets = targetsOf(context);
    if (this.reflector.getAllAndOverride<boolean>(OPERATIONAL_ENDPOINT, targets) === true) return [];
    const planned: PlannedLimit[] = [];
    for (const throttler of this.throttlers) {
      const meta = <T>(key: string): T | undefined =>
        this.reflector.getAllAndOverride<T>(key + throttler.name, targets);
      if (meta<boolean>(THROTTLER_SKIP)) continue;
      const limit = meta<ThrottlerOptions['limit']>(THROTTLER_LIMIT) ?? throttler.limit;
      const ttl = meta<ThrottlerOptions['ttl']>(THROTTLER_TTL) ?? throttler.ttl;
      const blockDuration =
        meta<ThrottlerOptions['blockDuration']>(THROTTLER_BLOCK_DURATION) ?? throttler.blockDuration ?? ttl;
      // Anything but finite numbers (functions, numeric strings, NaN) gets the library's path and its checks.
      if (!isFinite(limit) || !isFinite(ttl) || !isFinite(blockDuration)) return 'library';
      planned.push({
        throttler,
        limit,
        ttl,
        blockDuration,
        getTracker:
          meta<ThrottlerGetTrackerFunction>(THROTTLER_TRACKER) ??
          throttler.getTracker ??
          this.commonOptions.getTracker!,
        generateKey:
          meta<ThrottlerGenerateKeyFunction>(THROTTLER_KEY_GENERATOR) ??
          throttler.generateKey ??
          this.commonOptions.generateKey!,
        skipIf: throttler.skipIf ?? this.commonOptions.skipIf,
      });
    }
    return planned;
  }
}

function isFinite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

type Targets = [
  handler: ReturnType<ExecutionContext['getHandler']>,
  controller: ReturnType<ExecutionContext['getClass']>,
];

function targetsOf(context: ExecutionContext): Targets {
  return [context.getHandler(), context.getClass()];
}
