import { applyDecorators, Param } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { CanonicalUuidPipe } from '../../http';

/**
 * Job ids are outbox row UUIDs; anything else is a client error, answered before touching Redis. Canonical (lower
 * case): BullMQ compares jobIds as strings, so an upper-case id would miss a job that exists.
 */
export const JobId = (): ParameterDecorator => Param('id', new CanonicalUuidPipe());

export const ApiJobId = (): MethodDecorator =>
  applyDecorators(ApiParam({ name: 'id', format: 'uuid', description: 'Job id' }));
