import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toApiError } from './http-error';
import { retryAfterOf } from './retry-later.exception';

/** An HTML page for an error status, for a browser that asked for a page (the web tier's 404 page). */
export type HtmlErrorPage = (statusCode: number) => string;

@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  constructor(private readonly htmlNotFound?: HtmlErrorPage) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const body = toApiError(exception);
    if (body.statusCode >= 500) {
      this.logger.error({ err: exception, requestId: request.id }, `${request.method} ${request.url} failed`);
    }
    if (reply.sent) return;
    if (body.statusCode === 503) void reply.header('retry-after', String(retryAfterOf(exception)));
    // A browser following a dead link gets the 404 page; API clients (Accept: application/json, */*) get JSON.
    if (body.statusCode === 404 && this.htmlNotFound && request.headers.accept?.includes('text/html'))
      return void reply.status(404).type('text/html; charset=utf-8').send(this.htmlNotFound(404));
    void reply.status(body.statusCode).type('application/json; charset=utf-8').send(body);
  }
}
