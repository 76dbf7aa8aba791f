import fastifyStatic from '@fastify/static';
import Fastify from 'fastify';
import helmet from 'helmet';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { helmetHeaders, registerSecurityHeaders, SECURITY_HEADERS as OPTIONS } from './security-headers';

describe('helmetHeaders', () => {
  let server: Server;
  afterEach(() => new Promise((resolve) => server.close(resolve)));

  it('are exactly the headers helmet sets on a real response', async () => {
    const middleware = helmet(OPTIONS);
    server = createServer((req, res) => {
      res.setHeader('x-powered-by', 'something');
      middleware(req, res, () => res.end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const fromHelmet = Object.fromEntries(
      [...res.headers].filter(
        ([name]) => !['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(name),
      ),
    );
    const { set, remove } = helmetHeaders(OPTIONS);
    expect(set).toEqual(fromHelmet);
    expect(remove).toEqual(['x-powered-by']);
    expect(set['content-security-policy']).toContain("default-src 'self'");
    expect(set['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect(Object.keys(set).length).toBeGreaterThan(10);
  });
});

describe('registerSecurityHeaders', () => {
  it('sets them on every reply, whoever answers: a route, a static file, a 404, a 429, an error', async () => {
    const app = Fastify();
    registerSecurityHeaders(app, OPTIONS);
    await app.register(fastifyStatic, { root: join(__dirname, '../../../static'), prefix: '/static/' });
    app.get('/route', () => ({ ok: true }));
    app.get('/limited', (_req, reply) => reply.code(429).send({ statusCode: 429 }));
    app.get('/broken', () => {
      throw new Error('boom');
    });
    const { set } = helmetHeaders(OPTIONS);
    try {
      for (const [url, status] of [
        ['/route', 200],
        ['/static/demo.css', 200],
        ['/nowhere', 404],
        ['/limited', 429],
        ['/broken', 500],
      ] as const) {
        const res = await app.inject({ method: 'GET', url });
        expect({ url, status: res.statusCode }).toEqual({ url, status });
        for (const [name, value] of Object.entries(set))
          expect({ url, [name]: res.headers[name] }).toEqual({ url, [name]: value });
      }
    } finally {
      await app.close();
    }
  });
});
