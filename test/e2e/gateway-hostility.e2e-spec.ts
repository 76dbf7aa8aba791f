import { randomUUID } from 'node:crypto';
import { PASSWORD, uniqueEmail } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import {
  FAST_HEALTH,
  parseRaw,
  rawExchange,
  requestFrom,
  startGateway,
  TEST_ADMIN_TOKEN,
  type GatewayInstance,
} from '../support/gateway-process';
import { errorShape } from '../support/http-client';
import { sharedInfra } from '../support/shared-infra';

/**
 * Hostile clients at the edge, over raw sockets and from distinct loopback source addresses: request smuggling
 * shapes never make the gateway and the API disagree about where a request ends, and the rate limits hold across
 * two instances behind the gateway whatever X-Forwarded-For a client sends.
 */
describe('gateway: request smuggling shapes and rate limits behind the gateway (gateway + 2 API processes)', () => {
  const { env } = sharedInfra();
  const limits = { RATE_LIMIT_AUTH_IP_MAX: '5', RATE_LIMIT_AUTH_ACCOUNT_MAX: '3', RATE_LIMIT_AUTH_WINDOW_MS: '60000' };
  let apis: ApiInstance[];
  let gateway: GatewayInstance;

  beforeAll(async () => {
    apis = await Promise.all([startApi(env, 'api-hostile-1', limits), startApi(env, 'api-hostile-2', limits)]);
    gateway = await startGateway({ UPSTREAMS: apis.map((a) => a.url).join(','), ...FAST_HEALTH }, 'gateway-hostile');
  }, 90_000);
  afterAll(async () => {
    await gateway?.stop();
    await Promise.all((apis ?? []).map((a) => a.stop()));
  });

  const apiLogs = () => apis.map((a) => a.log()).join('\n');
  // A fresh loopback address per client, so no other suite shares its rate-limit buckets in the shared Redis.
  const clientIp = () =>
    `127.${20 + Math.floor(Math.random() * 200)}.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;

  describe('request smuggling', () => {
    // Each shape hides a second request behind a framing ambiguity; a proxy that frames it differently from its
    // upstream would deliver that request to the API on someone else's connection.
    const smuggled = (marker: string) => `GET /articles/${marker} HTTP/1.1\r\nHost: x\r\n\r\n`;
    const rejected: Array<[string, (marker: string) => string]> = [
      [
        'Content-Length and Transfer-Encoding (CL.TE)',
        (m) =>
          `POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled(m)}`,
      ],
      [
        'Transfer-Encoding and Content-Length (TE.CL)',
        (m) =>
          `POST /auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n${smuggled(m)}`,
      ],
      [
        'Transfer-Encoding folded onto the next line (obs-fold)',
        (m) =>
          `POST /auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${smuggled(m)}`,
      ],
      [
        'an obs-fold continuation of any header',
        (m) => `GET /health/live HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n${smuggled(m)}`,
      ],
      [
        'a space before the colon of Transfer-Encoding',
        (m) =>
          `POST /auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${smuggled(m)}`,
      ],
      [
        'Transfer-Encoding: xchunked',
        (m) => `POST /auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${smuggled(m)}`,
      ],
      [
        'chunked not the final coding',
        (m) =>
          `POST /auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled(m)}`,
      ],
      [
        'two Transfer-Encoding headers',
        (m) =>
          `POST /auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${smuggled(m)}`,
      ],
      [
        'two different Content-Lengths',
        (m) => `POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 45\r\n\r\n${smuggled(m)}`,
      ],
      [
        'a signed Content-Length',
        (m) => `POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: +0\r\n\r\n${smuggled(m)}`,
      ],
      [
        'a chunk size that is not hex',
        (m) =>
          `POST /auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n${smuggled(m)}`,
      ],
      [
        'a chunk size past 64 bits',
        (m) =>
          `POST /auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n${smuggled(m)}`,
      ],
      [
        'junk after a chunk size',
        (m) =>
          `POST /auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3 x\r\nabc\r\n0\r\n\r\n${smuggled(m)}`,
      ],
      [
        'a chunk without its CRLF',
        (m) =>
          `POST /auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX0\r\n\r\n${smuggled(m)}`,
      ],
      ['bare LF line endings', (m) => `GET /health/live HTTP/1.1\nHost: x\n\n${smuggled(m)}`],
    ];

    const hidden: string[] = [];

    it.each(rejected)(
      'rejects %s with a 400, closes, and the hidden request never reaches an API',
      async (_name, shape) => {
        const marker = randomUUID();
        hidden.push(marker);
        const text = await rawExchange(gateway.port, (s) => s.write(shape(marker)));
        expect(parseRaw(text)).toEqual({ status: 400, body: errorShape(400) });
        // One response, then the close: nothing after the bad request was parsed as a request.
        expect(text.match(/HTTP\/1\.1 \d{3}/g)).toHaveLength(1);
        expect(apiLogs()).not.toContain(marker);
      },
    );

    it.each([
      ['identity before chunked', 'Transfer-Encoding: identity, chunked'],
      ['chunked over HTTP/1.0', 'Transfer-Encoding: chunked'],
    ])(
      'normalises %s: the API gets exactly the body the gateway parsed, and the next request stands alone',
      async (name, te) => {
        const email = `${randomUUID()}@smuggle.example`;
        const body = JSON.stringify({ email, password: 'not the password' });
        const version = name.includes('1.0') ? '1.0' : '1.1';
        const marker = randomUUID();
        // From an address of its own: the strict login limit per IP is shared through Redis with other suites.
        const text = await rawExchange(
          gateway.port,
          (s) => {
            s.write(
              `POST /auth/login HTTP/${version}\r\nHost: x\r\nContent-Type: application/json\r\n${te}\r\nConnection: keep-alive\r\n\r\n`,
            );
            s.write(`${body.length.toString(16)};ext=1\r\n${body}\r\n0\r\n\r\n`);
            s.write(`GET /articles/${marker} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
          },
          10_000,
          clientIp(),
        );
        const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
        // The login was read whole (a wrong password, not a parse error), and the pipelined GET is its own request.
        expect(statuses).toEqual([401, 404]);
        await Promise.any(
          apis.map((a) => a.waitForLog((l) => (l.req as { url?: string } | undefined)?.url === `/articles/${marker}`)),
        );
      },
    );

    it('is still up and serving after all of that, and no hidden request reached an API later either', async () => {
      // Logs are written asynchronously: a request served late would show up by now.
      await new Promise((r) => setTimeout(r, 500));
      const logs = apiLogs();
      for (const marker of hidden) expect(logs).not.toContain(marker);
      const res = await fetch(`${gateway.url}/health/live`);
      expect(res.status).toBe(200);
      expect(gateway.process.state).toBe('running');
      expect((await gateway.status()).totals.rejected.malformed).toBeGreaterThanOrEqual(rejected.length);
    });
  });

  describe("the gateway's own sign-in route (the architecture page)", () => {
    const signIn = (body: string, type = 'application/json') =>
      fetch(`${gateway.url}/_gateway/architecture/sign-in`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      });

    it.each([
      ['malformed JSON', 400, '{"token":', 'application/json'],
      ['a JSON array', 400, '["x"]', 'application/json'],
      ['no token', 400, '{}', 'application/json'],
      ['an unknown field', 400, JSON.stringify({ token: 'x', admin: true }), 'application/json'],
      ['a token of the wrong type', 400, '{"token":12345}', 'application/json'],
      ['a form body', 415, 'token=x', 'application/x-www-form-urlencoded'],
      ['a body over 16 KiB', 413, JSON.stringify({ token: 'x'.repeat(20_000) }), 'application/json'],
      ['a wrong token', 401, JSON.stringify({ token: 'not-the-admin-token' }), 'application/json'],
    ])('answers %s with a %d in the error shape, and sets no cookie', async (_name, status, body, type) => {
      const res = await signIn(body, type);
      expect(res.status).toBe(status);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(await res.json()).toEqual(errorShape(status));
    });

    it('answers a chunked body that grows past 16 KiB with a 413 in the error shape, then closes', async () => {
      const text = await rawExchange(gateway.port, (s) => {
        s.write(
          'POST /_gateway/architecture/sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
        );
        const chunk = `{"token":"${'x'.repeat(8 * 1024)}`;
        for (let i = 0; i < 3; i++) s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      });
      expect(parseRaw(text)).toEqual({ status: 413, body: errorShape(413) });
    });

    it('still signs in with the right token afterwards', async () => {
      const res = await signIn(JSON.stringify({ token: TEST_ADMIN_TOKEN }));
      expect(res.status).toBe(204);
      expect(res.headers.get('set-cookie')).toMatch(/^gw_admin_session=\d+\.[\w-]{43}; Path=\/_gateway\/;/);
    });
  });

  describe('rate limits held across both instances behind the gateway', () => {
    /** A login from a chosen loopback source address: the real client IP the gateway forwards. */
    const loginFrom = async (ip: string, json: unknown, headers: Record<string, string> = {}) => {
      const res = await requestFrom(ip, `${gateway.url}/auth/login`, headers, json);
      return {
        status: res.status,
        servedBy: String(res.headers['x-served-by']),
        retryAfter: res.headers['retry-after'] as string | undefined,
        body: JSON.parse(res.body),
      };
    };

    it('limits one account from one client, with both instances serving it', async () => {
      const ip = clientIp();
      const email = uniqueEmail();
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await loginFrom(ip, { email, password: 'wrong password' }));
      expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 429]);
      expect(new Set(answers.map((a) => a.servedBy))).toEqual(new Set(apis.map((a) => a.name)));
      expect(Number(answers[3]!.retryAfter)).toBeGreaterThan(0);
      expect(answers[3]!.body).toEqual(errorShape(429));
    });

    it('limits one client IP across accounts, though it sends a new X-Forwarded-For every time', async () => {
      const ip = clientIp();
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const spoofed = { 'x-forwarded-for': `203.0.113.${i + 1}` };
        statuses.push((await loginFrom(ip, { email: uniqueEmail(), password: PASSWORD }, spoofed)).status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      // Another client is unaffected: the limit is keyed by the address the gateway saw, not by the header.
      expect((await loginFrom(clientIp(), { email: uniqueEmail(), password: PASSWORD })).status).toBe(401);
    });
  });
});
