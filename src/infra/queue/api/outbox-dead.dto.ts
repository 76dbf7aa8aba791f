import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min, ValidateIf } from 'class-validator';

const whenPresent = ValidateIf((_: object, v: unknown) => v !== undefined);

export class PageQuery {
  @applyDecorators(
    ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 }),
    whenPresent,
    Type(() => Number),
    IsInt({ message: 'limit must be an integer' }),
    Min(1),
    Max(100),
  )
  limit?: number;

  @applyDecorators(
    ApiPropertyOptional({ minimum: 0, default: 0 }),
    whenPresent,
    Type(() => Number),
    IsInt({ message: 'offset must be an integer' }),
    Min(0),
    Max(1_000_000),
  )
  offset?: number;
}

export class DeadOutboxRowDto {
  @ApiProperty({ format: 'uuid', description: 'The outbox row id, which becomes the BullMQ jobId once relayed' })
  id: string;

  @ApiProperty({ description: 'The queue the row names (possibly one that does not exist)' })
  queue: string;

  @ApiProperty({ example: 'render' })
  name: string;

  @ApiPropertyOptional({ description: 'The job payload' })
  data: unknown;

  @ApiProperty({ description: 'Refused attempts (0 after a retry)' })
  attempts: number;

  @ApiProperty({ type: String, nullable: true, description: 'Why the queue refused it the last time' })
  lastError: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'null once retried' })
  deadAt: string | null;
}

export class DeadOutboxPageDto {
  @ApiProperty({ type: [DeadOutboxRowDto] })
  items: DeadOutboxRowDto[];

  @ApiProperty({ description: 'Dead-lettered rows in all' })
  total: number;
}
