import { HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { ApiErrorDto } from './api-error.dto';

/** Turns anything thrown while serving a request into the one error shape; unknown errors become an opaque 500. */
export function toApiError(exception: unknown): ApiErrorDto {
  const { statusCode, message } = classify(exception);
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

function classify(exception: unknown): { statusCode: number; message: string } {
  if (exception instanceof HttpException) {
    const body = exception.getResponse();
    const message = typeof body === 'string' ? body : joinMessage((body as { message?: unknown }).message);
    return { statusCode: exception.getStatus(), message: message ?? exception.message };
  }
  // Fastify's own rejections (body limit, malformed JSON, unsupported media type) carry a 4xx statusCode.
  if (exception instanceof Error) {
    const statusCode = (exception as { statusCode?: unknown }).statusCode;
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return { statusCode, message: exception.message };
    }
  }
  return { statusCode: 500, message: 'Internal server error' };
}

function joinMessage(message: unknown): string | undefined {
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return undefined;
}
