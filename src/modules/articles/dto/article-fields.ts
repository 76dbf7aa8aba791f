import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Matches, MaxLength, MinLength, NotContains, ValidateIf } from 'class-validator';

export const TITLE_MAX_LENGTH = 200;
export const BODY_MAX_LENGTH = 100_000;

// Each field's checks run in the order listed, type check first (stacked @decorators would run bottom-up).
const trim = Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));
// IsOptional() would also let `null` through (and into a NOT NULL column); only an absent field is optional.
const absentOrValidate = ValidateIf((_: object, value: unknown) => value !== undefined);

const titleRules = [
  trim,
  IsString(),
  MinLength(1, { message: 'title must not be empty' }),
  MaxLength(TITLE_MAX_LENGTH),
  Matches(/^[^\p{Cc}]*$/u, { message: 'title must not contain control characters' }),
];
const bodyRules = [
  IsString(),
  MinLength(1, { message: 'body must not be empty' }),
  MaxLength(BODY_MAX_LENGTH),
  // Markdown keeps its newlines and tabs, but PostgreSQL text cannot hold U+0000: a 400 here, not a 500 at INSERT.
  NotContains('\u0000', { message: 'body must not contain the NUL character (U+0000)' }),
];

const titleDoc = { example: 'Scaling reads with replicas', minLength: 1, maxLength: TITLE_MAX_LENGTH };
const bodyDoc = {
  example: '# Why replicas\n\nReads outnumber writes **100 to 1**.',
  maxLength: BODY_MAX_LENGTH,
  description: 'Markdown',
};

export const TitleField = (): PropertyDecorator => applyDecorators(ApiProperty(titleDoc), ...titleRules);
export const BodyField = (): PropertyDecorator => applyDecorators(ApiProperty(bodyDoc), ...bodyRules);
export const OptionalTitleField = (): PropertyDecorator =>
  applyDecorators(ApiPropertyOptional(titleDoc), absentOrValidate, ...titleRules);
export const OptionalBodyField = (): PropertyDecorator =>
  applyDecorators(ApiPropertyOptional(bodyDoc), absentOrValidate, ...bodyRules);
