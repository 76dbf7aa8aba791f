import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import type { AppConfig } from '../../config';
import { EdgePurger } from './edge-purger';

/** A stand-in gateway purge route: records what it got, answers `status()` (503 while "down"). */
async function fakeGateway(status: () => number) {
  const received: Array<{ path: string; authorization?: string }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const code = status();
      if (code === 200 && req.url === '/_gateway/cache/purge')
        received.push({ path: (JSON.parse(body) as { path: string }).path, authorization: req.headers.authorization });
      res.writeHead(code, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, close: () => new Promise((resolve) => server.close(resolve)) };
}

const purgerFor = (urls: string[], registry: Registry, giveUpSeconds = 30) =>
  new EdgePurger(
    {
      pages: {
        cacheSeconds: giveUpSeconds,
        staleSeconds: 0,
        purge: { urls, token: 'purge-token-0123456789', timeoutMs: 300 },
      },
    } as unknown as AppConfig,
    registry,
  );

const counted = async (registry: Registry) =>
  Object.fromEntries(
    (await registry.getSingleMetric('edge_purges_total')!.get()).values.map((v) => [v.labels.result, v.value]),
  );

describe('EdgePurger', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('purges every path from every edge, with the purge token, before it returns', async () => {
    const [a, b] = await Promise.all([fakeGateway(() => 200), fakeGateway(() => 200)]);
    const registry = new Registry();
    const purger = purgerFor([a.url, b.url], registry);
    await purger.purge(['/a/1', '/']);
    for (const g of [a, b]) {
      expect(g.received.map((r) => r.path).sort()).toEqual(['/', '/a/1']);
      expect(g.received[0]!.authorization).toBe('Bearer purge-token-0123456789');
    }
    expect(await counted(registry)).toEqual({ done: 4 });
    purger.onApplicationShutdown();
    await Promise.all([a.close(), b.close()]);
  });

  it('retries an edge that refused until it takes the purge', async () => {
    let down = true;
    const g = await fakeGateway(() => (down ? 503 : 200));
    const registry = new Registry();
    const purger = purgerFor([g.url], registry);
    await purger.purge(['/a/2']);
    expect(g.received).toEqual([]);
    down = false;
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(g.received.map((r) => r.path)).toEqual(['/a/2']);
    expect(await counted(registry)).toEqual({ deferred: 1, done: 1 });
    purger.onApplicationShutdown();
    await g.close();
  });

  it('does not retry a purge the edge refuses with a 4xx (a wrong token): that will not change', async () => {
    const g = await fakeGateway(() => 401);
    const registry = new Registry();
    const purger = purgerFor([g.url], registry);
    await purger.purge(['/a/4']);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await counted(registry)).toEqual({ refused: 1 });
    purger.onApplicationShutdown();
    await g.close();
  });

  it('stops retrying once the page would have expired at the edge anyway', async () => {
    const g = await fakeGateway(() => 503);
    const registry = new Registry();
    const purger = purgerFor([g.url], registry, 0);
    await purger.purge(['/a/3']);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await counted(registry)).toEqual({ deferred: 1, abandoned: 1 });
    purger.onApplicationShutdown();
    await g.close();
  });
});
