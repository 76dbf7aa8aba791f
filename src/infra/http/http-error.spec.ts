import { BadRequestException, ForbiddenException, HttpException, NotFoundException } from '@nestjs/common';
import { toApiError } from './http-error';

describe('toApiError', () => {
  it('keeps the status and message of an HttpException', () => {
    expect(toApiError(new NotFoundException('article not found'))).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'article not found',
    });
  });

  it('joins validation messages into one string', () => {
    const e = new BadRequestException(['email must be an email', 'password is too short']);
    expect(toApiError(e)).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'email must be an email; password is too short',
    });
  });

  it('uses a plain string response as the message', () => {
    expect(toApiError(new HttpException('slow down', 429))).toMatchObject({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'slow down',
    });
  });

  it('falls back to the exception message for an object body without one', () => {
    expect(toApiError(new ForbiddenException({ reason: 'x' }))).toMatchObject({
      statusCode: 403,
      message: 'Forbidden Exception',
    });
  });

  it('passes through a Fastify 4xx error', () => {
    const e = Object.assign(new Error('Request body is too large'), {
      statusCode: 413,
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    });
    expect(toApiError(e)).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'Request body is too large',
    });
  });

  it('hides everything else behind an opaque 500', () => {
    for (const e of [
      new Error('connection refused to 10.0.0.3'),
      'a string',
      null,
      Object.assign(new Error('x'), { statusCode: 502 }),
    ]) {
      expect(toApiError(e)).toEqual({
        statusCode: 500,
        error: 'Internal Server Error',
        message: 'Internal server error',
      });
    }
  });
});
