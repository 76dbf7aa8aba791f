import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, ValidateIf } from 'class-validator';
import { QUEUE_NAMES, RENDER_QUEUE, type QueueName } from '../queue-names';
import { PageQuery } from './outbox-dead.dto';

const whenPresent = ValidateIf((_: object, v: unknown) => v !== undefined);

export class FailedJobsQuery extends PageQuery {
  @applyDecorators(
    ApiPropertyOptional({ enum: QUEUE_NAMES, default: RENDER_QUEUE }),
    whenPresent,
    IsIn(QUEUE_NAMES, { message: `queue must be one of: ${QUEUE_NAMES.join(', ')}` }),
  )
  queue?: QueueName;
}
