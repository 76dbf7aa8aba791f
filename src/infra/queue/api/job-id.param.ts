import { applyDecorators, BadRequestException, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';

/** Job ids are outbox row UUIDs; anything else is a client error, answered before touching Redis. */
export const JobId = (): ParameterDecorator =>
  Param('id', new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException('id must be a UUID') }));

export const ApiJobId = (): MethodDecorator => applyDecorators(ApiParam({ name: 'id', format: 'uuid', description: 'Job id' }));
