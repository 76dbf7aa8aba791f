import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import pino, { type Logger, type LoggerOptions } from 'pino';
import type { AppConfig } from '../../config';

// Anything that could authenticate someone or is a password never reaches a log line.
export const REDACTED_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-admin-token"]',
  'res.headers["set-cookie"]',
  // Top level and one level down: pino's `*.x` does not match a top-level `x`.
  'password',
  'currentPassword',
  'newPassword',
  'passwordHash',
  'sessionId',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.passwordHash',
  '*.sessionId',
  // A Session's `cookie` is the signed credential itself.
  '*.cookie',
];

type LoggedRequest = Pick<FastifyRequest, 'method' | 'url' | 'ip' | 'headers'> | IncomingMessage;

const roots = new WeakMap<AppConfig, Logger>();

/**
 * The process's one pino logger: Fastify's (request lines, with `requestId` bound once per request) and
 * nestjs-pino's (every other line, and the request's own through its context) are this logger.
 */
export function rootLogger(config: AppConfig): Logger {
  let root = roots.get(config);
  if (!root) {
    root = pino(loggerOptions(config));
    roots.set(config, root);
  }
  return root;
}

export function loggerOptions(config: Pick<AppConfig, 'log' | 'instanceId'>): LoggerOptions {
  return {
    level: config.log.level,
    base: { instance: config.instanceId, pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      // Only what an operator needs; headers (cookies!) stay out. `ip` is Fastify's trustProxy-aware client IP.
      req: (req: LoggedRequest) => ({
        method: req.method,
        url: req.url,
        ip: 'ip' in req ? req.ip : req.socket?.remoteAddress,
        userAgent: req.headers['user-agent'],
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: pino.stdSerializers.err,
    },
  };
}

/**
 * One line per request, when it is answered: method, url, ip, user agent, status and time, at info, warn for
 * a 4xx, error for a 5xx. Fastify's own request logging (LogController, made to be extended) with
 * `requestId` as the label of the id it binds to `request.log`. Hand-written in place of pino-http (through
 * nestjs-pino) because that makes two or three child loggers per request, each serialized and redacted,
 * and was the largest single cost of a cached read (docs/benchmarks.md); here the one child is Fastify's.
 *
 * A line without an error is written by a child of the root logger that skips redaction: its fields are only
 * what the serializers above pick (never a header, a body or a cookie), and pino 10's redaction, which clones
 * and walks every field for the wildcard paths, was about half of the logging's CPU (docs/benchmarks.md). A line
 * with an error goes through the request's own, redacting, logger.
 */
export class RequestLogController extends LogController {
  private readonly lines: Logger;

  constructor(root: Logger) {
    super({ requestIdLogLabel: 'requestId' });
    this.lines = root.child({}, { redact: [] });
  }

  override incomingRequest(): void {
    // One line per request, at the end.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    const responseTime = Math.round(reply.elapsedTime);
    if (error || status >= 500) {
      const fields = { req: request, res: reply, responseTime };
      reply.log.error(error ? { ...fields, err: error } : fields, 'request completed');
      return;
    }
    const fields = { requestId: request.id, req: request, res: reply, responseTime };
    if (status >= 400) this.lines.warn(fields, 'request completed');
    else this.lines.info(fields, 'request completed');
  }
}
