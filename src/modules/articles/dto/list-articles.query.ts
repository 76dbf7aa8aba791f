import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsString, Max, MaxLength, Min, ValidateIf } from 'class-validator';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

const whenPresent = ValidateIf((_: object, v: unknown) => v !== undefined);

export class ListArticlesQuery {
  // Checks run in the order listed (applyDecorators), type check first.
  @applyDecorators(
    ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE }),
    whenPresent,
    Type(() => Number),
    IsInt({ message: 'limit must be an integer' }),
    Min(1),
    Max(MAX_PAGE_SIZE),
  )
  limit?: number;

  @applyDecorators(
    ApiPropertyOptional({ description: 'The nextCursor of the previous page' }),
    whenPresent,
    IsString(),
    MaxLength(200),
  )
  cursor?: string;
}
