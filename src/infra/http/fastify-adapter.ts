import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config';
import { RequestLogController, rootLogger } from '../observability/request-log';
import { toApiError } from './http-error';
import { stampResponse } from './http-hooks';
import { requestIdFor } from './request-id';

export function createFastifyAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: config.http.bodyLimitBytes,
    // Only the gateway's addresses may set X-Forwarded-*; `true` would believe any client's spoofed header.
    trustProxy: config.http.trustProxy,
    // Must outlive the gateway's upstream idle timeout, or the gateway reuses a socket we just closed (random 502s).
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    requestIdHeader: false,
    genReqId: requestIdFor,
    // One pino logger per process; one line per request, with the request id as `requestId`.
    loggerInstance: rootLogger(config),
    logController: new RequestLogController(rootLogger(config)),
    maxParamLength: 200,
    // Router-level rejections (malformed URL encoding, over-long params) happen before Nest sees the request.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const body = toApiError(error);
      stampResponse(request, reply, config);
      void reply.status(body.statusCode).send(body);
    },
  });
}
