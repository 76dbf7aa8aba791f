import { applyDecorators, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiErrorDto, MemoizedReflector } from '../http';

const STRICT_RATE_LIMIT = Symbol('strict-rate-limit');
const reflector = new MemoizedReflector();

export interface StrictRateLimitOptions {
  /**
   * The account a request targets (e.g. the normalized email of a login), for a per-account limit on
   * top of the per-IP one: a botnet spread over many IPs still hits one account's budget. Runs before
   * validation, so it must cope with any body.
   */
  readonly account?: (request: FastifyRequest) => string | undefined;
}

/** The strict limits of credential endpoints (login, signup, password change), besides the general one. */
export const StrictRateLimit = (options: StrictRateLimitOptions = {}): MethodDecorator =>
  applyDecorators(
    SetMetadata(STRICT_RATE_LIMIT, options),
    ApiTooManyRequestsResponse({ type: ApiErrorDto, description: 'Too many attempts; see the Retry-After header' }),
  );

export function strictRateLimitOf(context: ExecutionContext): StrictRateLimitOptions | undefined {
  return reflector.get<StrictRateLimitOptions | undefined>(STRICT_RATE_LIMIT, context.getHandler());
}
