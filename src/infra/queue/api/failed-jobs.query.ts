import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, Max, Min, ValidateIf } from 'class-validator';
import { QUEUE_NAMES, RENDER_QUEUE, type QueueName } from '../queue-names';

const whenPresent = ValidateIf((_: object, v: unknown) => v !== undefined);

export class FailedJobsQuery {
  @applyDecorators(ApiPropertyOptional({ enum: QUEUE_NAMES, default: RENDER_QUEUE }), whenPresent, IsIn(QUEUE_NAMES, { message: `queue must be one of: ${QUEUE_NAMES.join(', ')}` }))
  queue?: QueueName;

  @applyDecorators(ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 }), whenPresent, Type(() => Number), IsInt({ message: 'limit must be an integer' }), Min(1), Max(100))
  limit?: number;

  @applyDecorators(ApiPropertyOptional({ minimum: 0, default: 0 }), whenPresent, Type(() => Number), IsInt({ message: 'offset must be an integer' }), Min(0), Max(1_000_000))
  offset?: number;
}
