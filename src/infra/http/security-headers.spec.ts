import helmet from 'helmet';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { helmetHeaders, SECURITY_HEADERS as OPTIONS } from './security-headers';

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
