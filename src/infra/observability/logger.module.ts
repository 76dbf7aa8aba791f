import { RequestMethod } from '@nestjs/common';
import { LoggerModule as PinoLoggerModule } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '../../config';

// Anything that could authenticate someone or is a password never reaches a log line.
export const REDACTED_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-admin-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.passwordHash',
  '*.sessionId',
];

/** Structured JSON logs (pino) with the request id on every line of a request. */
export const LoggerModule = PinoLoggerModule.forRootAsync({
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig) => ({
    // nestjs-pino on Nest 12 + Fastify: without this route pattern, request logging stops after `/`.
    forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
    pinoHttp: {
      level: config.log.level,
      base: { instance: config.instanceId, pid: process.pid },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // The gateway's X-Request-Id (or one minted here) on every line logged while serving the request.
      customProps: (req) => ({ requestId: (req as { id?: unknown }).id }),
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      serializers: {
        // Only what an operator needs; headers (cookies!) stay out. `raw.ip` is Fastify's trustProxy-aware client IP.
        req: (req: {
          method: string;
          url: string;
          remoteAddress?: string;
          raw?: { ip?: string };
          headers: Record<string, unknown>;
        }) => ({
          method: req.method,
          url: req.url,
          ip: req.raw?.ip ?? req.remoteAddress,
          userAgent: req.headers['user-agent'],
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
  }),
});
