import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { ProxyStats } from '../proxy/proxy-stats';
import { UpstreamSet } from '../upstreams/upstream-set';
import { ArchitectureObserver } from './architecture-observer';
import type { ArchitectureSnapshot } from './architecture-snapshot';

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ArchitectureObserver (against in-process HTTP servers)', () => {
  let served = 0;
  let clientRequests = 0;
  const api = createServer((req, res) => {
    served++;
    if (req.url === '/health/ready') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({
          status: 'ok',
          details: {
            primary: { status: 'up' },
            'db:primary': { status: 'up', role: 'primary', state: 'healthy' },
            redis: { status: 'up' },
          },
        }),
      );
    }
    clientRequests += 50;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(
      `# HELP http_requests_total x\nhttp_requests_total{route="/articles",instance="api-a"} ${clientRequests}\nhttp_requests_total{route="/health/ready",instance="api-a"} ${served * 100}\n`,
    );
  });
  // Accepts connections and never answers: a frozen process.
  const hung = createServer(() => undefined);
  let urls: { api: string; hung: string };
  let upstreams: UpstreamSet;

  beforeAll(async () => {
    urls = { api: await listen(api), hung: await listen(hung) };
    const config = {
      upstream: { connections: 1, connectTimeoutMs: 100, responseTimeoutMs: 100, idleTimeoutMs: 1000 },
      health: { path: '/health/ready', intervalMs: 200, timeoutMs: 100, rise: 1, fall: 1 },
      ejection: { baseMs: 100, maxMs: 1000 },
    };
    upstreams = new UpstreamSet(config);
    upstreams.add(urls.api, 'static');
    upstreams.add(urls.hung, 'static');
    for (const u of upstreams.all) u.recordCheck(true, 'HTTP 200');
  });
  afterAll(async () => {
    await upstreams.close();
    hung.closeAllConnections();
    await Promise.all([api, hung].map((s) => new Promise((r) => s.close(r))));
  });

  it('keeps its interval with a hung instance, names instances, rates client requests, and stops when told', async () => {
    const snapshots: ArchitectureSnapshot[] = [];
    const observer = new ArchitectureObserver(
      {
        upstreams,
        stats: new ProxyStats(),
        cache: null,
        config: { workers: [], intervalMs: 200, timeoutMs: 100, maxClients: 4 },
        health: { path: '/health/ready', intervalMs: 200, timeoutMs: 100, rise: 1, fall: 1 },
        draining: () => false,
        streams: () => 1,
        log: pino({ level: 'silent' }),
      },
      (s) => snapshots.push(s),
    );
    const started = Date.now();
    observer.start();
    while (snapshots.length < 5) await sleep(10);
    // Five rounds, each bounded by the 100 ms timeout: about 4 intervals, not 5 hung reads in a row.
    expect(Date.now() - started).toBeLessThan(1500);
    const last = snapshots.at(-1)!;
    const [a, h] = last.apis;
    expect(a).toMatchObject({ name: 'api-a', health: 'up', readiness: 'ok' });
    // 50 client requests per 200 ms round; the probes' own 100s are left out.
    expect(a!.rps).toBeGreaterThan(150);
    expect(a!.rps).toBeLessThan(350);
    expect(h).toMatchObject({ health: 'degraded', detail: 'in rotation, but not answering: timeout' });
    expect(last.databases.map((d) => d.name)).toEqual(['primary']);
    expect(last.seq).toBe(5);

    // A stop and a start while a round is in flight (reading the hung server) still leave one loop, not two.
    const n = snapshots.length;
    while (snapshots.length === n) await sleep(5);
    await sleep(130);
    observer.stop();
    observer.start();
    const countAt = snapshots.length;
    await sleep(1000);
    expect(snapshots.length - countAt).toBeLessThanOrEqual(6);
    expect(snapshots.length - countAt).toBeGreaterThanOrEqual(3);

    observer.stop();
    const servedAtStop = served;
    await sleep(600);
    expect(served - servedAtStop).toBeLessThanOrEqual(2);
    expect(snapshots.length - countAt).toBeLessThanOrEqual(7);
    await observer.close();
  });
});
