import {
  applyDecorators,
  createParamDecorator,
  type ExecutionContext,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { ApiCookieAuth, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiErrorDto, SESSION_SECURITY } from '../http';
import { SessionAuthGuard } from './session-auth.guard';
import './session.types';

export interface SessionUser {
  readonly id: string;
}

/** The signed-in user of a route guarded by @Authenticated(). */
export const CurrentUser = createParamDecorator((_: unknown, context: ExecutionContext): SessionUser => {
  const userId = context.switchToHttp().getRequest<FastifyRequest>().session?.userId;
  if (!userId) throw new UnauthorizedException('Sign in first');
  return { id: userId };
});

/** Requires a signed-in session, and documents the cookie and the 401 in OpenAPI. */
export const Authenticated = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    UseGuards(SessionAuthGuard),
    ApiCookieAuth(SESSION_SECURITY),
    ApiUnauthorizedResponse({ type: ApiErrorDto, description: 'No valid session cookie' }),
  );
