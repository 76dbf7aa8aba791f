import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Script } from 'node:vm';
import pino from 'pino';
import { Registry } from 'prom-client';
import { AdminApi } from '../admin/admin-api';
import { AdminAuth } from '../admin/admin-auth';
import { AdminSession } from '../admin/admin-session';
import { ProxyStats } from '../proxy/proxy-stats';
import { UpstreamSet } from '../upstreams/upstream-set';
import { ArchitecturePage } from './architecture-page';
import { PAGE_SCRIPT } from './page/page-script';

const TOKEN = 'a-long-enough-admin-token';
const health = { path: '/health/ready', intervalMs: 1000, timeoutMs: 800, rise: 2, fall: 2 };

/** The admin API with the page's routes, on the public listener, as the gateway composes them. */
async function serve(
  token: string | undefined,
  production: boolean,
): Promise<{ url: string; page: ArchitecturePage; close: () => Promise<void> }> {
  const upstreams = new UpstreamSet({
    upstream: { connections: 1, connectTimeoutMs: 100, responseTimeoutMs: 100, idleTimeoutMs: 1000 },
    health,
    ejection: { baseMs: 100, maxMs: 1000 },
  });
  const stats = new ProxyStats();
  const auth = new AdminAuth(token, production);
  const session = new AdminSession();
  const config = { workers: [], intervalMs: 1000, timeoutMs: 800, maxClients: 2 };
  const page = new ArchitecturePage({
    upstreams,
    stats,
    cache: null,
    config,
    health,
    draining: () => false,
    auth,
    session,
    log: pino({ level: 'silent' }),
  });
  const admin = new AdminApi({
    upstreams,
    stats,
    cache: null,
    registry: new Registry(),
    auth,
    session,
    routes: page.routes(),
    discovery: () => ({}),
    draining: () => false,
  });
  const server: Server = createServer((req, res) => admin.handle(req, res, true));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/_gateway/`,
    page,
    close: async () => {
      await page.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Status of a stream request; the stream itself is dropped at once. */
async function streamStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  const abort = new AbortController();
  const res = await fetch(`${url}architecture/events`, { headers, signal: abort.signal });
  abort.abort();
  return res.status;
}

describe('ArchitecturePage routes', () => {
  it('serves the page and its assets with a strict CSP, and a script that parses', async () => {
    const { url, close } = await serve(TOKEN, true);
    try {
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'; script-src 'self'");
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(await page.text()).toContain('<script src="/_gateway/architecture.js" defer></script>');
      expect((await fetch(`${url}architecture.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect((await fetch(`${url}architecture.css`)).status).toBe(200);
      expect(() => new Script(PAGE_SCRIPT)).not.toThrow();
    } finally {
      await close();
    }
  });

  it('with a token: sign-in trades it for a session cookie that opens the stream and nothing else', async () => {
    const { url, close } = await serve(TOKEN, true);
    try {
      expect(await (await fetch(`${url}architecture/session`)).json()).toEqual({
        signedIn: false,
        tokenRequired: true,
      });
      expect(await streamStatus(url)).toBe(401);
      const signIn = (token: string, type = 'application/json') =>
        fetch(`${url}architecture/sign-in`, {
          method: 'POST',
          headers: { 'content-type': type },
          body: JSON.stringify({ token }),
        });
      expect((await signIn('wrong-but-long-enough-token')).status).toBe(401);
      expect((await signIn(TOKEN, 'text/plain')).status).toBe(415);
      const ok = await signIn(TOKEN);
      expect(ok.status).toBe(204);
      const cookie = ok.headers.get('set-cookie')!.split(';')[0]!;
      expect(cookie).not.toContain(TOKEN);
      expect(await (await fetch(`${url}architecture/session`, { headers: { cookie } })).json()).toEqual({
        signedIn: true,
        tokenRequired: true,
      });
      expect(await streamStatus(url, { cookie })).toBe(200);
      expect(await streamStatus(url, { authorization: `Bearer ${TOKEN}` })).toBe(200);
      // The cookie is for the page's stream only: the admin API's other reads and every change still need the token.
      expect((await fetch(`${url}status`, { headers: { cookie } })).status).toBe(401);
      const change = await fetch(`${url}upstreams`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: '{"action":"add","url":"http://127.0.0.1:1"}',
      });
      expect(change.status).toBe(401);
      const out = await fetch(`${url}architecture/sign-out`, { method: 'POST' });
      expect(out.headers.get('set-cookie')).toMatch(/^gw_admin_session=; Path=\/_gateway\/; Max-Age=0/);
    } finally {
      await close();
    }
  });

  it('changes which workers the page reads, with the admin token only (the autoscaling stack uses it)', async () => {
    const { url, close, page } = await serve(TOKEN, true);
    try {
      const change = (body: unknown, token: string | null = TOKEN) =>
        fetch(`${url}architecture/workers`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(body),
        });
      expect((await change({ action: 'add', url: 'http://127.0.0.1:3102' }, null)).status).toBe(401);
      const added = await change({ action: 'add', url: 'http://127.0.0.1:3102/' });
      expect(added.status).toBe(201);
      expect(await added.json()).toMatchObject({ workers: ['http://127.0.0.1:3102'] });
      expect([...page.observer.workers]).toEqual(['http://127.0.0.1:3102']);
      expect((await change({ action: 'add', url: 'http://127.0.0.1:3102' })).status).toBe(409);
      expect((await change({ action: 'remove', url: 'http://127.0.0.1:3102' })).status).toBe(200);
      expect((await change({ action: 'remove', url: 'http://127.0.0.1:3102' })).status).toBe(404);
      expect((await change({ action: 'add', url: 'not a url' })).status).toBe(400);
      expect([...page.observer.workers]).toEqual([]);
    } finally {
      await close();
    }
  });

  it('without a token: open outside production, hidden on the public port in production', async () => {
    const dev = await serve(undefined, false);
    try {
      expect(await (await fetch(`${dev.url}architecture/session`)).json()).toEqual({
        signedIn: true,
        tokenRequired: false,
      });
      expect(await streamStatus(dev.url)).toBe(200);
    } finally {
      await dev.close();
    }
    const prod = await serve(undefined, true);
    try {
      expect((await fetch(`${prod.url}architecture/session`)).status).toBe(404);
      expect(await streamStatus(prod.url)).toBe(404);
    } finally {
      await prod.close();
    }
  });
});
