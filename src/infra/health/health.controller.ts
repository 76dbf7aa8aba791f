import { Controller, Get, HttpStatus, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { OperationalEndpoint } from '../observability';
import { DrainState } from './drain-state';
import { ReadinessRegistry } from './readiness.registry';

type Readiness =
  | (HealthCheckResult & { statusCode?: undefined })
  | {
      statusCode: 503;
      error: 'Service Unavailable';
      message: string;
      status: 'error' | 'draining';
      details: HealthCheckResult['details'];
    };

@ApiTags('health')
@OperationalEndpoint()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly registry: ReadinessRegistry,
    private readonly drain: DrainState,
  ) {}

  @Get('live')
  @ApiOperation({
    summary: 'Liveness: the process can serve; checks no dependency, so an outage never restarts every instance',
  })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary: 'Readiness: may this instance get traffic? 503 only for its own trouble: draining, a stalled event loop',
    description:
      'status is ok; degraded when a shared dependency is down (no primary: read-only mode; no Redis: no sessions; ' +
      'a replica down: reads fall back), still 200 so no outage ejects every instance at once; error; or draining.',
  })
  @ApiOkResponse({
    schema: {
      example: { status: 'ok', info: { primary: { status: 'up' } }, error: {}, details: { primary: { status: 'up' } } },
    },
  })
  @ApiServiceUnavailableResponse({
    schema: {
      example: {
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'not ready: eventLoop',
        status: 'error',
        details: {},
      },
    },
  })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<Readiness> {
    if (this.drain.draining) {
      reply.status(HttpStatus.SERVICE_UNAVAILABLE);
      return {
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'draining: shutting down',
        status: 'draining',
        details: {},
      };
    }
    try {
      return await this.health.check(this.registry.all());
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      // Terminus throws the full result; keep it, in the one error shape plus the per-dependency details.
      const result = err.getResponse() as HealthCheckResult;
      reply.status(HttpStatus.SERVICE_UNAVAILABLE);
      return {
        statusCode: 503,
        error: 'Service Unavailable',
        message: `not ready: ${Object.keys(result.error ?? {}).join(', ')}`,
        status: 'error',
        details: result.details,
      };
    }
  }
}
