import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { IsNotCommonPassword } from '../password-policy';

// Each field's checks are listed, and run, in order: the type check first, so a wrong type is reported
// as such. (Stacked @decorators would run bottom-up, since class-validator keeps registration order.)

export const PASSWORD_MIN_LENGTH = 10;
// argon2 would take longer inputs, but an unbounded one is a cheap way to burn server CPU.
export const PASSWORD_MAX_LENGTH = 256;

/** One normal form for emails, used by validation and by the per-account rate limit (which runs before it). */
export function normalizeEmail(value: unknown): string | undefined {
  return typeof value === 'string' ? value.trim().toLowerCase() : undefined;
}

const trimmed = Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

/** Trimmed and lower-cased before validation, so "Ada@Example.com " and "ada@example.com" are one account. */
export const EmailField = (): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ example: 'ada@example.com', maxLength: 254, format: 'email' }),
    Transform(({ value }: { value: unknown }) => normalizeEmail(value) ?? value),
    IsString(),
    MaxLength(254),
    IsEmail({}, { message: 'email must be an email address' }),
  );

export const PasswordField = (minLength: number): PropertyDecorator =>
  applyDecorators(
    ApiProperty({
      example: 'correct horse battery staple',
      minLength,
      maxLength: PASSWORD_MAX_LENGTH,
      format: 'password',
    }),
    IsString(),
    MinLength(minLength),
    MaxLength(PASSWORD_MAX_LENGTH),
  );

/** A password being chosen: long enough and not a known-common one. */
export const NewPasswordField = (): PropertyDecorator =>
  applyDecorators(PasswordField(PASSWORD_MIN_LENGTH), IsNotCommonPassword());

export const DisplayNameField = (): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ example: 'Ada Lovelace', minLength: 1, maxLength: 100 }),
    trimmed,
    IsString(),
    MinLength(1, { message: 'name must not be empty' }),
    MaxLength(100),
    Matches(/^[^\p{Cc}]*$/u, { message: 'name must not contain control characters' }),
  );
