import { RequestMethod } from '@nestjs/common';
import { LoggerModule as PinoLoggerModule } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '../../config';
import { rootLogger } from './request-log';

export { REDACTED_PATHS } from './request-log';

/**
 * Structured JSON logs (pino) with the request id on every line of a request. Request lines are Fastify's
 * (RequestLogController); nestjs-pino gives Nest's Logger and PinoLogger the same pino logger, and, inside a
 * request, that request's `request.log` (useExisting), so a service's lines carry its requestId too.
 */
export const LoggerModule = PinoLoggerModule.forRootAsync({
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig) => ({
    // nestjs-pino on Nest 12 + Fastify: without this route pattern, the request context stops after `/`.
    forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
    useExisting: true,
    pinoHttp: { logger: rootLogger(config) },
  }),
});
