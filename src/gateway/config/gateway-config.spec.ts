import { GatewayConfigError, loadGatewayConfig } from './gateway-config';

const base = { UPSTREAMS: 'http://127.0.0.1:3001,http://127.0.0.1:3002/' };

describe('loadGatewayConfig', () => {
  it('gives consistent local defaults', () => {
    const c = loadGatewayConfig(base);
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.discovery).toEqual({ kind: 'static', upstreams: ['http://127.0.0.1:3001', 'http://127.0.0.1:3002'] });
    expect(c.health).toEqual({ path: '/health/ready', intervalMs: 1000, timeoutMs: 800, rise: 2, fall: 2 });
    // Below the API's 65 s keep-alive, so the gateway closes idle upstream connections first.
    expect(c.upstream.idleTimeoutMs).toBeLessThan(65_000);
    expect(c.sticky.enabled).toBe(false);
    expect(c.cache.enabled).toBe(true);
    expect(c.trustedProxies).toEqual([]);
    expect(c.privatePaths).toEqual(['/metrics']);
    expect(Object.isFrozen(c.health)).toBe(true);
    expect(c.observe).toEqual({ workers: [], intervalMs: 1000, timeoutMs: 800, maxClients: 16 });
  });

  it('reads the workers the architecture page observes', () => {
    const c = loadGatewayConfig({
      ...base,
      GATEWAY_OBSERVE_WORKERS: 'http://127.0.0.1:3101, http://127.0.0.1:3102/',
      GATEWAY_OBSERVE_INTERVAL_MS: '500',
      GATEWAY_OBSERVE_TIMEOUT_MS: '400',
    });
    expect(c.observe).toMatchObject({
      workers: ['http://127.0.0.1:3101', 'http://127.0.0.1:3102'],
      intervalMs: 500,
      timeoutMs: 400,
    });
  });

  it('reads private paths, and none forwards everything', () => {
    expect(loadGatewayConfig({ ...base, GATEWAY_PRIVATE_PATHS: '/metrics, /internal' }).privatePaths).toEqual([
      '/metrics',
      '/internal',
    ]);
    expect(loadGatewayConfig({ ...base, GATEWAY_PRIVATE_PATHS: 'none' }).privatePaths).toEqual([]);
  });

  it('reads DNS discovery', () => {
    const c = loadGatewayConfig({
      UPSTREAM_DNS: 'api:3000',
      UPSTREAM_DNS_SERVERS: '127.0.0.1:8600',
      UPSTREAM_DNS_INTERVAL_MS: '2000',
    });
    expect(c.discovery).toEqual({
      kind: 'dns',
      host: 'api',
      port: 3000,
      intervalMs: 2000,
      servers: ['127.0.0.1:8600'],
    });
  });

  it.each([
    [{}, 'UPSTREAMS'],
    [{ ...base, UPSTREAM_DNS: 'api:3000' }, 'UPSTREAM_DNS'],
    [{ UPSTREAMS: 'http://a:1/path' }, 'UPSTREAMS'],
    [{ UPSTREAMS: 'https://a:1' }, 'UPSTREAMS'],
    [{ UPSTREAM_DNS: 'api' }, 'UPSTREAM_DNS'],
    [{ UPSTREAM_DNS: 'api:99999' }, 'UPSTREAM_DNS'],
    [{ ...base, GATEWAY_PORT: 'eighty' }, 'GATEWAY_PORT'],
    [{ ...base, UPSTREAM_HEALTH_RISE: '0' }, 'UPSTREAM_HEALTH_RISE'],
    [{ ...base, UPSTREAM_HEALTH_TIMEOUT_MS: '1000' }, 'UPSTREAM_HEALTH_TIMEOUT_MS'],
    [{ ...base, GATEWAY_TRUSTED_PROXIES: '10.0.0.0/8,not an ip' }, 'GATEWAY_TRUSTED_PROXIES'],
    [{ ...base, GATEWAY_PRIVATE_PATHS: '/metrics,metrics' }, 'GATEWAY_PRIVATE_PATHS'],
    [{ ...base, GATEWAY_STICKY_SESSIONS: 'yes' }, 'GATEWAY_STICKY_SESSIONS'],
    [{ ...base, GATEWAY_ADMIN_TOKEN: 'short' }, 'GATEWAY_ADMIN_TOKEN'],
    [{ ...base, GATEWAY_ADMIN_PORT: '8080' }, 'GATEWAY_ADMIN_PORT'],
    [{ ...base, EDGE_CACHE_MAX_BYTES: '1000', EDGE_CACHE_MAX_ENTRY_BYTES: '2000' }, 'EDGE_CACHE_MAX_ENTRY_BYTES'],
    [{ ...base, GATEWAY_OBSERVE_WORKERS: 'http://127.0.0.1:3101,127.0.0.1:3102' }, 'GATEWAY_OBSERVE_WORKERS'],
    [{ ...base, GATEWAY_OBSERVE_TIMEOUT_MS: '1000' }, 'GATEWAY_OBSERVE_TIMEOUT_MS'],
    [{ ...base, GATEWAY_OBSERVE_MAX_CLIENTS: '0' }, 'GATEWAY_OBSERVE_MAX_CLIENTS'],
  ])('rejects %j and names %s', (env, name) => {
    expect(() => loadGatewayConfig(env)).toThrow(new RegExp(`^Invalid gateway configuration:\\n(.*\\n)*  - ${name}: `));
  });

  it('never echoes a value (the admin token is a secret)', () => {
    try {
      loadGatewayConfig({ ...base, GATEWAY_ADMIN_TOKEN: 'hunter2', GATEWAY_PORT: 'x' });
      throw new Error('expected a GatewayConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(GatewayConfigError);
      expect((e as GatewayConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual([
        'GATEWAY_ADMIN_TOKEN',
        'GATEWAY_PORT',
      ]);
      expect((e as Error).message).not.toContain('hunter2');
    }
  });

  it('treats an empty variable as unset', () => {
    expect(loadGatewayConfig({ ...base, GATEWAY_PORT: '' }).listen.port).toBe(8080);
  });
});
