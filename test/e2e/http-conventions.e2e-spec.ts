import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DIST } from '../../tools/stack/node-programs';
import { startApi, type ApiInstance } from '../support/api-process';
import { HttpClient } from '../support/http-client';
import { sharedInfra } from '../support/shared-infra';

describe('HTTP conventions of an API instance (real process)', () => {
  const { env } = sharedInfra();
  let api: ApiInstance;
  let client: HttpClient;

  beforeAll(async () => {
    api = await startApi(env, 'api-http');
    client = new HttpClient(api.url);
  });
  afterAll(() => api?.stop());

  it('stamps every response, errors included, with X-Served-By and X-Request-Id', async () => {
    for (const path of ['/health/live', '/articles', '/no/such/route', '/articles/bad-id']) {
      const res = await client.get(path);
      expect(res.headers.get('x-served-by')).toBe('api-http');
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('keeps a well-formed incoming X-Request-Id, logs it, and replaces a malformed one', async () => {
    const id = `gw-${Date.now()}-abc`;
    const res = await client.get('/articles?limit=1', { headers: { 'x-request-id': id } });
    expect(res.headers.get('x-request-id')).toBe(id);
    const line = await api.waitForLog((l) => l.requestId === id);
    expect(line).toMatchObject({
      requestId: id,
      instance: 'api-http',
      req: { method: 'GET', url: '/articles?limit=1' },
    });

    const bad = await client.get('/health/live', { headers: { 'x-request-id': 'has spaces and {braces}' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sets security headers', async () => {
    const res = await client.get('/articles');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('serves Swagger UI at /docs and an OpenAPI document that covers every route', async () => {
    const ui = await client.get('/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger-ui');

    const doc = (await client.get('/docs-json')).body;
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        'DELETE /articles/{id}',
        'GET /admin/jobs/failed',
        'GET /admin/outbox/dead',
        'GET /articles',
        'GET /articles/{id}',
        'GET /auth/me',
        'GET /jobs/{id}',
        'GET /health/live',
        'GET /health/ready',
        'GET /metrics',
        'PATCH /articles/{id}',
        'POST /admin/jobs/{id}/retry',
        'POST /admin/outbox/{id}/retry',
        'POST /articles',
        'POST /auth/login',
        'POST /auth/logout',
        'POST /auth/logout-all',
        'POST /auth/password',
        'POST /auth/signup',
      ].sort(),
    );
    // Protected routes declare the session cookie and their 401; every documented error uses the error shape.
    expect(doc.components.securitySchemes.session).toEqual({ type: 'apiKey', in: 'cookie', name: 'sid' });
    for (const [path, op] of [
      ['/articles', 'post'],
      ['/auth/me', 'get'],
      ['/articles/{id}', 'patch'],
      ['/articles/{id}', 'delete'],
    ] as const) {
      expect(doc.paths[path][op].security).toEqual([{ session: [] }]);
      expect(doc.paths[path][op].responses['401'].content['application/json'].schema.$ref).toBe(
        '#/components/schemas/ApiErrorDto',
      );
    }
    // Admin routes declare the bearer token.
    expect(doc.components.securitySchemes.admin).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/admin/jobs/{id}/retry'].post.security).toEqual([{ admin: [] }]);
    expect(doc.paths['/admin/outbox/{id}/retry'].post.security).toEqual([{ admin: [] }]);
    expect(doc.paths['/admin/outbox/dead'].get.security).toEqual([{ admin: [] }]);
    expect(doc.components.schemas.SignupDto.properties.email.example).toBe('ada@example.com');
    expect(doc.components.schemas.ApiErrorDto.required.sort()).toEqual(['error', 'message', 'statusCode']);
  });

  it('refuses to start on a bad config variable, and says which', () => {
    const run = spawnSync(process.execPath, [join(DIST, 'main.js')], {
      env: { ...process.env, ...env, PORT: 'eighty', REDIS_URL: 'http://nope' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Invalid configuration');
    expect(run.stderr).toMatch(/PORT: /);
    expect(run.stderr).toMatch(/REDIS_URL: must be a redis:\/\/ URL/);
    expect(run.stderr).not.toContain('at ');
  });
});
