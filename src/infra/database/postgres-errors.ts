import { QueryFailedError } from 'typeorm';

// SQLSTATE 23505, https://www.postgresql.org/docs/current/errcodes-appendix.html
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  if (!(err instanceof QueryFailedError)) return false;
  const driverError = err.driverError as { code?: string; constraint?: string };
  return driverError.code === '23505' && (constraint === undefined || driverError.constraint === constraint);
}
