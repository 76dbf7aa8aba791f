import Fastify from 'fastify';
import pino from 'pino';
import { Writable } from 'node:stream';
import { loggerOptions, RequestLogController } from './request-log';

/** A Fastify app logging through RequestLogController into memory, as the API is configured. */
function appWithLog() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino(loggerOptions({ log: { level: 'info' }, instanceId: 'api-test' }), sink);
  const app = Fastify({
    loggerInstance: logger,
    logController: new RequestLogController(logger),
    genReqId: (req) => String(req.headers['x-request-id'] ?? 'minted'),
  });
  app.get('/ok', async (request) => {
    request.log.info({ password: 'hunter2' }, 'inside the handler');
    return { ok: true };
  });
  app.get('/missing', async (_request, reply) => reply.code(404).send({ error: 'no' }));
  app.get('/broken', async () => {
    throw new Error('boom');
  });
  return { app, lines };
}

describe('RequestLogController', () => {
  it('writes one line per request, at the end, with the request id on every line of the request', async () => {
    const { app, lines } = appWithLog();
    await app.inject({ method: 'GET', url: '/ok?x=1', headers: { 'x-request-id': 'r-1', cookie: 'sid=secret' } });
    const mine = lines.filter((l) => l.requestId === 'r-1');
    expect(mine.map((l) => l.msg)).toEqual(['inside the handler', 'request completed']);
    expect(mine[0]!.password).toBe('[redacted]');
    expect(mine[1]).toMatchObject({
      level: 30,
      instance: 'api-test',
      req: { method: 'GET', url: '/ok?x=1', ip: '127.0.0.1', userAgent: 'lightMyRequest' },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
    });
    expect(JSON.stringify(lines)).not.toContain('secret');
    await app.close();
  });

  it('logs a 4xx at warn and a 5xx at error, with the error', async () => {
    const { app, lines } = appWithLog();
    await app.inject({ method: 'GET', url: '/missing', headers: { 'x-request-id': 'r-404' } });
    await app.inject({ method: 'GET', url: '/broken', headers: { 'x-request-id': 'r-500' } });
    const done = (id: string) => lines.find((l) => l.requestId === id && l.msg === 'request completed')!;
    expect(done('r-404')).toMatchObject({ level: 40, res: { statusCode: 404 } });
    expect(done('r-500')).toMatchObject({ level: 50, res: { statusCode: 500 } });
    expect(lines.filter((l) => l.msg === 'incoming request')).toEqual([]);
    await app.close();
  });
});
