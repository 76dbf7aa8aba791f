import {
  applyDecorators,
  type CanActivate,
  type ExecutionContext,
  Injectable,
  NotFoundException,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AppConfig, InjectConfig } from '../../config';
import { ADMIN_CHALLENGE, ADMIN_SECURITY, isAdminAuthorized } from './admin-credentials';
import { ApiErrorDto } from './api-error.dto';

/** Admin routes: absent (404) when ADMIN_ENABLED is off, 401 without the ADMIN_TOKEN. */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(@InjectConfig() private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    if (!this.config.admin.enabled) throw new NotFoundException('not found');
    if (isAdminAuthorized(http.getRequest<FastifyRequest>().headers.authorization, this.config.admin.token))
      return true;
    void http.getResponse<FastifyReply>().header('www-authenticate', ADMIN_CHALLENGE);
    throw new UnauthorizedException('admin credentials required');
  }
}

export const AdminOnly = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    UseGuards(AdminGuard),
    ApiBearerAuth(ADMIN_SECURITY),
    ApiUnauthorizedResponse({ type: ApiErrorDto, description: 'Missing or wrong ADMIN_TOKEN' }),
  );
