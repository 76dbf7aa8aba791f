import { ConfigError, loadConfig } from './app-config';
import { DEV_SESSION_SECRET } from './config.schema';

describe('loadConfig', () => {
  it('gives safe local defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c.env).toBe('development');
    expect(c.http).toMatchObject({ host: '127.0.0.1', port: 3000, debugHeaders: true });
    expect(c.db.nodes).toEqual([{ name: 'primary', url: 'postgres://postgres@127.0.0.1:54320/app' }]);
    expect(c.db).toMatchObject({
      nodesFile: undefined,
      monitorIntervalMs: 1000,
      readStrategy: 'least-busy',
      readYourWritesTtlSeconds: 60,
    });
    expect(c.redis.target).toEqual({ kind: 'standalone', url: 'redis://127.0.0.1:63790' });
    expect(c.redis.replicaWaitMs).toBe(0);
    expect(c.session.cookieSecure).toBe(false);
    expect(c.instanceId).toMatch(/:3000$/);
  });

  it("names a worker by its own port, not the API's", () => {
    expect(loadConfig({ WORKER_HTTP_PORT: '3107' }, 'worker').instanceId).toMatch(/:3107$/);
    expect(loadConfig({ WORKER_HTTP_PORT: '3107' }).instanceId).toMatch(/:3000$/);
  });

  it('parses numbers, booleans and lists', () => {
    const c = loadConfig({
      PORT: '3101',
      INSTANCE_ID: 'api-7',
      DEBUG_HEADERS: 'false',
      DB_REPLICAS: 'postgres://a@h:1/app, postgres://b@h:2/app',
      SESSION_COOKIE_SECURE: '1',
    });
    expect(c.http.port).toBe(3101);
    expect(c.instanceId).toBe('api-7');
    expect(c.http.debugHeaders).toBe(false);
    expect(c.db.nodes).toEqual([
      { name: 'primary', url: 'postgres://postgres@127.0.0.1:54320/app' },
      { name: 'replica-1', url: 'postgres://a@h:1/app' },
      { name: 'replica-2', url: 'postgres://b@h:2/app' },
    ]);
    expect(c.session.cookieSecure).toBe(true);
  });

  it('names database nodes: explicit names, positional names for plain URLs', () => {
    const c = loadConfig({
      DB_PRIMARY: 'postgres://p@h:1/app',
      DB_REPLICAS: 'replica-1=postgres://a@h:2/app?application_name=x,postgres://b@h:3/app',
    });
    expect(c.db.nodes.map((n) => n.name)).toEqual(['primary', 'replica-1', 'replica-2']);
    expect(c.db.nodes[1]!.url).toBe('postgres://a@h:2/app?application_name=x');
    const all = loadConfig({
      DB_NODES: 'pg-a=postgres://a@h:1/app, postgres://b@h:2/app',
      DB_NODES_FILE: '/tmp/nodes.json',
    });
    expect(all.db.nodes).toEqual([
      { name: 'pg-a', url: 'postgres://a@h:1/app' },
      { name: 'node-2', url: 'postgres://b@h:2/app' },
    ]);
    expect(all.db.nodesFile).toBe('/tmp/nodes.json');
  });

  it.each([
    [
      'DB_NODES',
      { DB_NODES: 'a=postgres://a@h/app', DB_PRIMARY: 'postgres://p@h/app' },
      /DB_NODES: set either DB_NODES or DB_PRIMARY/,
    ],
    ['DB_REPLICAS', { DB_REPLICAS: 'primary=postgres://a@h/app' }, /DB_REPLICAS: node name "primary" is used twice/],
    ['DB_NODES', { DB_NODES: 'a=postgres://a@h/app,a=postgres://b@h/app' }, /DB_NODES: node name "a" is used twice/],
    ['DB_REPLICAS', { DB_REPLICAS: 'Replica_One=postgres://a@h/app' }, /DB_REPLICAS/],
    [
      'DB_RYW_TTL_SECONDS',
      { DB_RYW_TTL_SECONDS: '5', DB_REPLICA_MAX_LAG_MS: '5000' },
      /DB_RYW_TTL_SECONDS: must be longer than DB_REPLICA_MAX_LAG_MS/,
    ],
    ['DB_READ_STRATEGY', { DB_READ_STRATEGY: 'random' }, /DB_READ_STRATEGY/],
  ])('rejects a bad node configuration (%s)', (_, env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '' }).http.port).toBe(3000);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DB_PRIMARY', 'mysql://x@y/z'],
    ['DB_REPLICAS', 'postgres://ok@h/app,not a url'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['SESSION_SECRET', 'short'],
    ['DEBUG_HEADERS', 'yes'],
    ['NODE_ENV', 'staging'],
  ])('rejects a bad %s and names it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid configuration:\\n  - ${name}`));
  });

  it('reports every bad variable at once, without echoing values', () => {
    try {
      loadConfig({ PORT: 'x', SESSION_SECRET: 'hunter2' });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const { problems, message } = e as ConfigError;
      expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['PORT', 'SESSION_SECRET']);
      expect(message).not.toContain('hunter2');
    }
  });

  it('refuses the development session secret in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SESSION_SECRET: must be set in production/);
    expect(() => loadConfig({ NODE_ENV: 'production', SESSION_SECRET: DEV_SESSION_SECRET })).toThrow(ConfigError);
    const prod = loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40) });
    expect(prod.session.cookieSecure).toBe(true);
    expect(prod.http.debugHeaders).toBe(false);
  });

  it('gives the queue its own Redis when asked, and falls back to REDIS_URL', () => {
    expect(loadConfig({ REDIS_URL: 'redis://h:1' }).queue.redis).toEqual({ kind: 'standalone', url: 'redis://h:1' });
    expect(loadConfig({ REDIS_URL: 'redis://h:1', QUEUE_REDIS_URL: 'redis://q:2' }).queue.redis).toEqual({
      kind: 'standalone',
      url: 'redis://q:2',
    });
  });

  it('sends every Redis client through Sentinel when REDIS_SENTINELS is set', () => {
    const c = loadConfig({ REDIS_SENTINELS: 's1:26379, s2:26380', CACHE_REDIS_MASTER_NAME: 'cache' });
    const sentinels = [
      { host: 's1', port: 26379 },
      { host: 's2', port: 26380 },
    ];
    expect(c.redis.target).toEqual({ kind: 'sentinel', sentinels, masterName: 'z2m' });
    expect(c.queue.redis).toEqual({ kind: 'sentinel', sentinels, masterName: 'z2m' });
    expect(c.cache.redis).toEqual({ kind: 'sentinel', sentinels, masterName: 'cache' });
    expect(c.redis.replicaWaitMs).toBe(250);
  });

  it('names the bad Sentinel variable', () => {
    expect(() => loadConfig({ REDIS_SENTINELS: 's1' })).toThrow(/REDIS_SENTINELS(\.0)?: must be host:port/);
    expect(() => loadConfig({ REDIS_SENTINELS: 's1:1', CACHE_REDIS_URL: 'redis://c:1' })).toThrow(
      /CACHE_REDIS_URL: not used with REDIS_SENTINELS; set CACHE_REDIS_MASTER_NAME/,
    );
    expect(() => loadConfig({ QUEUE_REDIS_MASTER_NAME: 'q' })).toThrow(/QUEUE_REDIS_MASTER_NAME: only applies/);
  });

  it('keeps the admin surfaces off in production unless enabled with a real token', () => {
    const base = { NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40) };
    expect(loadConfig(base).admin.enabled).toBe(false);
    expect(() => loadConfig({ ...base, ADMIN_ENABLED: 'true' })).toThrow(/ADMIN_TOKEN: must be set in production/);
    expect(loadConfig({ ...base, ADMIN_ENABLED: 'true', ADMIN_TOKEN: 'y'.repeat(40) }).admin).toEqual({
      enabled: true,
      token: 'y'.repeat(40),
    });
    expect(loadConfig({}).admin.enabled).toBe(true);
  });

  it('rejects autoscaler bounds that cross', () => {
    expect(() => loadConfig({ WORKER_MIN_CONCURRENCY: '9', WORKER_MAX_CONCURRENCY: '3' })).toThrow(
      /WORKER_MIN_CONCURRENCY/,
    );
  });

  it('rejects a session touch interval that is not shorter than the session', () => {
    expect(() => loadConfig({ SESSION_TTL_SECONDS: '120', SESSION_TOUCH_AFTER_SECONDS: '120' })).toThrow(
      /SESSION_TOUCH_AFTER_SECONDS: must be less than SESSION_TTL_SECONDS/,
    );
    expect(loadConfig({ SESSION_TTL_SECONDS: '120', SESSION_TOUCH_AFTER_SECONDS: '0' }).session.touchAfterSeconds).toBe(
      0,
    );
  });

  it('returns a frozen object', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.db)).toBe(true);
  });
});
