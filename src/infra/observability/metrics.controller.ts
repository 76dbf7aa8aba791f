import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';
import { InjectMetrics } from './metrics';
import { OperationalEndpoint } from './operational-endpoint.decorator';

@ApiTags('observability')
@OperationalEndpoint()
@Controller('metrics')
export class MetricsController {
  constructor(@InjectMetrics() private readonly registry: Registry) {}

  @Get()
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics of this instance (the gateway does not expose it publicly)' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format' })
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    void reply.type(this.registry.contentType).send(await this.registry.metrics());
  }
}
