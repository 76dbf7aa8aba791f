import { setTimeout as sleep } from 'node:timers/promises';
import { PASSWORD, uniqueEmail } from '../support/accounts';
import { startApi, type ApiInstance } from '../support/api-process';
import { eventually } from '../support/eventually';
import { HttpClient } from '../support/http-client';
import { startInfra, type TestInfra } from '../support/infra';

const SYNC_MS = 100;

describe('rate limits shared across instances through Redis (private Redis, two real API processes)', () => {
  let infra: TestInfra;
  let a: ApiInstance;
  let b: ApiInstance;
  const limits = {
    RATE_LIMIT_MAX: '40',
    RATE_LIMIT_WINDOW_MS: '60000',
    RATE_LIMIT_AUTH_IP_MAX: '6',
    RATE_LIMIT_AUTH_ACCOUNT_MAX: '3',
    RATE_LIMIT_AUTH_WINDOW_MS: '60000',
    // The default, spelled out: the bound below is in terms of it.
    RATE_LIMIT_SYNC_MS: String(SYNC_MS),
  };

  beforeAll(async () => {
    infra = await startInfra({ replicas: 0 });
    // The suite plays several clients through X-Forwarded-For, so it trusts the loopback peer as its gateway.
    [a, b] = await Promise.all([startApi(infra.env, 'api-rl-a', limits), startApi(infra.env, 'api-rl-b', limits)]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await infra?.stop();
  });

  /** A client at a given (forwarded) IP, alternating instances like a round-robin gateway would. */
  const clientAt = (ip: string) => {
    let n = 0;
    return (method: string, path: string, json?: unknown) => {
      const c = new HttpClient((n++ % 2 === 0 ? a : b).url);
      return c.request(method, path, { json, headers: { 'x-forwarded-for': ip } });
    };
  };

  it('limits login attempts per account across both instances, with Retry-After', async () => {
    const send = clientAt('198.51.100.1');
    const email = uniqueEmail();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await send('POST', '/auth/login', { email, password: 'wrong password' })).status);
    expect(statuses).toEqual([401, 401, 401]);
    const blocked = await send('POST', '/auth/login', { email: `  ${email.toUpperCase()} `, password: PASSWORD });
    expect(blocked.status).toBe(429);
    expect(blocked.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: expect.stringMatching(/^Too many requests; retry in \d+ s$/),
    });
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The account is throttled from everywhere, not just from this IP.
    expect((await clientAt('198.51.100.2')('POST', '/auth/login', { email, password: PASSWORD })).status).toBe(429);
  });

  it('limits credential endpoints per IP across accounts, and other IPs are unaffected', async () => {
    const send = clientAt('198.51.100.3');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push((await send('POST', '/auth/login', { email: uniqueEmail(), password: 'x' })).status);
    expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(statuses[6]).toBe(429);
    expect((await send('POST', '/auth/signup', { email: uniqueEmail(), password: PASSWORD, name: 'x' })).status).toBe(
      429,
    );
    expect(
      (await clientAt('198.51.100.4')('POST', '/auth/signup', { email: uniqueEmail(), password: PASSWORD, name: 'x' }))
        .status,
    ).toBe(201);
  });

  it('holds the general limit across both instances, past it by at most one sync interval of requests; never for health probes', async () => {
    const send = clientAt('198.51.100.5');
    const sent: { at: number; status: number }[] = [];
    for (let i = 0; i < 70; i++) {
      const at = Date.now();
      sent.push({ at, status: (await send('GET', '/articles?limit=1')).status });
      // Paced, so one interval holds a dozen requests, not all of them: limits kept per instance (35 each) would fail.
      await sleep(10);
    }
    expect(new Set(sent.map((r) => r.status))).toEqual(new Set([200, 429]));
    const admitted = sent.filter((r) => r.status === 200).length;
    // Each instance counts locally and learns the other's hits at its next sync (locally-synced-storage.ts): the
    // client gets past the limit by at most what it sent within one sync interval plus a round trip.
    const inOneInterval = Math.max(
      ...sent.map((r) => sent.filter((o) => o.at >= r.at && o.at < r.at + SYNC_MS + 50).length),
    );
    console.log(
      `general limit 40: ${admitted} of 70 admitted across 2 instances; at most ${inOneInterval} sent per ${SYNC_MS + 50} ms`,
    );
    expect(admitted).toBeGreaterThanOrEqual(40);
    expect(admitted).toBeLessThanOrEqual(40 + inOneInterval);
    // After a sync both instances know: the client is refused everywhere, with Retry-After.
    await sleep(3 * SYNC_MS);
    for (const instance of [a, b]) {
      const res = await new HttpClient(instance.url).get('/articles?limit=1', {
        headers: { 'x-forwarded-for': '198.51.100.5' },
      });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    for (let i = 0; i < 5; i++) expect((await send('GET', '/health/live')).status).toBe(200);
  });

  it('ignores X-Forwarded-For from a peer it does not trust', async () => {
    const untrusting = await startApi(infra.env, 'api-rl-direct', { ...limits, TRUST_PROXY: '10.255.255.254' });
    try {
      const statuses: number[] = [];
      // A client rotating spoofed XFF values still spends one budget: its real address.
      for (let i = 0; i < 7; i++) {
        const res = await new HttpClient(untrusting.url).post(
          '/auth/login',
          { email: uniqueEmail(), password: 'x' },
          { headers: { 'x-forwarded-for': `203.0.113.${i}` } },
        );
        statuses.push(res.status);
      }
      expect(statuses[6]).toBe(429);
    } finally {
      await untrusting.stop();
    }
  });

  it('fails open while Redis is down, and counts it', async () => {
    const send = clientAt('198.51.100.6');
    await infra.redis.stop();
    try {
      for (let i = 0; i < 3; i++) expect((await send('GET', '/articles?limit=1')).status).toBe(200);
      // The general limit's failed syncs count here, at most a sync interval and a deadline later.
      const errors = await eventually(
        async () => {
          const metrics = (await new HttpClient(a.url).get('/metrics')).text;
          return Number(/^rate_limit_storage_errors_total\{[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? 0);
        },
        (n) => n > 0,
        5_000,
        100,
      );
      expect(errors).toBeGreaterThan(0);
    } finally {
      await infra.redis.start();
    }
  });
});
