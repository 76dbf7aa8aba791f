import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config';
import { REQUEST_ID_HEADER } from './request-id';

export const SERVED_BY_HEADER = 'x-served-by';

export function stampResponse(request: FastifyRequest, reply: FastifyReply, config: AppConfig): void {
  reply.header(SERVED_BY_HEADER, config.instanceId);
  reply.header(REQUEST_ID_HEADER, request.id);
}

/** Stamps every response, errors included, with the instance that served it and the request id. */
export function registerResponseHeaders(fastify: FastifyInstance, config: AppConfig): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    stampResponse(request, reply, config);
    done();
  });
}
