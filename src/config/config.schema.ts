import { hostname } from 'node:os';
import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const port = int(1, 65535);
const postgresUrl = z
  .string()
  .url()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// URL');
const origin = z
  .string()
  .url()
  .refine((v) => new URL(v).origin === v, 'must be an origin: scheme://host[:port], no path or trailing slash');
const redisUrl = z
  .string()
  .url()
  .refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// URL');

// `host:port`; Sentinel gives clients the master's address, so these are only where to ask.
const hostPort = z
  .string()
  .regex(/^[^\s:,]+:\d{1,5}$/, 'must be host:port')
  .transform((v) => {
    const i = v.lastIndexOf(':');
    return { host: v.slice(0, i), port: Number(v.slice(i + 1)) };
  })
  .pipe(z.object({ host: z.string(), port: z.number().int().min(1).max(65535) }));
const masterName = z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits and . _ - only');

// An http(s) base URL without a trailing slash, so paths can be appended.
const httpUrl = z
  .string()
  .url()
  .regex(/^https?:\/\//, 'must be an http(s) URL')
  .transform((v) => v.replace(/\/+$/, ''));

const csv = (item: z.ZodType<string, string>) =>
  z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));

/** A PostgreSQL node as the database layer names it in X-Db-Node, metrics and readiness. */
export interface DbNodeConfig {
  readonly name: string;
  readonly url: string;
}

// Names show up in headers, metric labels and readiness keys: keep them short and plain.
const dbNodeName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'node names are lowercase letters, digits, - and _ (at most 63)');
export const dbNodeSchema = z.object({ name: dbNodeName, url: postgresUrl });
const NAMED_ITEM = /^([a-z0-9][a-z0-9_-]{0,62})=(.+)$/;

/**
 * `name=postgres://...` items, comma-separated; a plain URL is named by position (`replica-1`, `replica-2`, ...),
 * so lists written before names existed stay valid.
 */
const dbNodeList = (positionalPrefix: string) =>
  z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((item, i) => {
          const named = NAMED_ITEM.exec(item);
          return named ? { name: named[1]!, url: named[2]! } : { name: `${positionalPrefix}-${i + 1}`, url: item };
        }),
    )
    .pipe(z.array(dbNodeSchema));

// A placeholder, not a secret: the stack and the tests pass a random SESSION_SECRET, and production refuses this one.
export const DEV_SESSION_SECRET = 'insecure-local-development-session-secret';
// The same for the admin surfaces (queue dashboard, job retry): production refuses it when they are enabled.
export const DEV_ADMIN_TOKEN = 'insecure-local-development-admin-token';

/** Every environment variable the programs read, with its local default. Names are the env names. */
export const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: port.default(3000),
    INSTANCE_ID: z
      .string()
      .regex(/^[\w.:-]{1,100}$/, 'letters, digits and . _ : - only')
      .optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    // Either DB_PRIMARY (+ DB_REPLICAS), or DB_NODES; roles are discovered from every node either way.
    DB_PRIMARY: postgresUrl.optional(),
    DB_REPLICAS: dbNodeList('replica').default([]),
    DB_NODES: dbNodeList('node').optional(),
    // A JSON node list re-read while running (service discovery): `{"nodes":[{"name":"replica-3","url":"postgres://..."}]}`.
    DB_NODES_FILE: z.string().min(1).optional(),
    DB_POOL_SIZE: int(1, 200).default(10),
    DB_CONNECT_TIMEOUT_MS: int(50, 60_000).default(2000),
    DB_QUERY_TIMEOUT_MS: int(50, 600_000).default(5000),
    DB_MONITOR_INTERVAL_MS: int(100, 60_000).default(1000),
    DB_REPLICA_MAX_LAG_MS: int(0, 3_600_000).default(5000),
    DB_REPLICA_MAX_LAG_BYTES: int(0, Number.MAX_SAFE_INTEGER).default(16 * 1024 * 1024),
    DB_READ_STRATEGY: z.enum(['round-robin', 'least-busy']).default('least-busy'),
    DB_RYW_TTL_SECONDS: int(1, 86_400).default(60),

    REDIS_URL: redisUrl.default('redis://127.0.0.1:63790'),
    REDIS_COMMAND_TIMEOUT_MS: int(10, 60_000).default(1000),
    // Set: every Redis client (sessions, cache, rate limits, queues) finds its master through these Sentinels.
    REDIS_SENTINELS: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(z.array(hostPort).min(1, 'must name at least one host:port'))
      .optional(),
    REDIS_MASTER_NAME: masterName.default('z2m'),
    // The data nodes' password under Sentinel (or instead of one in REDIS_URL); never logged.
    REDIS_PASSWORD: z.string().min(1).optional(),
    // WAIT 1 (at most this long) after writes a failover must not lose: a new session, jobs from the outbox. Default 250 with REDIS_SENTINELS, else 0 (off).
    REDIS_REPLICA_WAIT_MS: int(0, 5000).optional(),

    SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').default(DEV_SESSION_SECRET),
    SESSION_COOKIE_NAME: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .default('sid'),
    SESSION_COOKIE_SECURE: bool.optional(),
    SESSION_TTL_SECONDS: int(60, 60 * 60 * 24 * 365).default(60 * 60 * 24 * 7),
    // An unchanged session's expiry is written back to Redis at most this often; an idle session may end this much
    // sooner than SESSION_TTL_SECONDS. 0 writes it on every response.
    SESSION_TOUCH_AFTER_SECONDS: int(0, 60 * 60 * 24).default(60),

    HTTP_BODY_LIMIT_BYTES: int(1024, 50 * 1024 * 1024).default(256 * 1024),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: int(1000, 600_000).default(65_000),
    TRUST_PROXY: z.string().min(1).default('127.0.0.1,::1'),
    // Browser origins (besides the API's own) allowed to make credentialed cross-origin requests.
    CORS_ORIGINS: csv(origin).default([]),
    // /static/* and the Swagger UI assets: long-lived and public, so the gateway's edge cache keeps them.
    STATIC_MAX_AGE_SECONDS: int(0, 365 * 24 * 3600).default(24 * 3600),
    DEBUG_HEADERS: bool.optional(),

    HEALTH_CHECK_TIMEOUT_MS: int(50, 30_000).default(1000),
    HEALTH_CACHE_MS: int(0, 30_000).default(1000),
    // Readiness 503 once the event loop stalled this long: the instance's own trouble, unlike any dependency's.
    HEALTH_MAX_EVENT_LOOP_DELAY_MS: int(100, 60_000).default(2000),
    // At least the gateway's health-check interval × fall, so it stops routing here before we close.
    SHUTDOWN_DRAIN_DELAY_MS: int(0, 120_000).default(3000),
    SHUTDOWN_TIMEOUT_MS: int(100, 300_000).default(30_000),

    // The cache may live on its own Redis (allkeys-lru) while sessions and queues keep noeviction; defaults to REDIS_URL.
    CACHE_REDIS_URL: redisUrl.optional(),
    // Under Sentinel, the cache's own master (monitored by the same Sentinels); defaults to REDIS_MASTER_NAME.
    CACHE_REDIS_MASTER_NAME: masterName.optional(),
    // Off: cached routes always run their handler (writes still invalidate, for instances that have it on).
    CACHE_ENABLED: bool.default(true),
    CACHE_TIMEOUT_MS: int(5, 10_000).default(100),
    CACHE_TTL_MS: int(100, 86_400_000).default(60_000),
    CACHE_LIST_TTL_MS: int(100, 86_400_000).default(10_000),
    CACHE_NEGATIVE_TTL_MS: int(100, 3_600_000).default(5_000),
    CACHE_TTL_JITTER: z.coerce.number().min(0).max(0.5).default(0.1),
    CACHE_LEASE_MS: int(100, 60_000).default(2_000),
    CACHE_LEASE_WAIT_MS: int(0, 60_000).default(1_000),
    // How long a fill after a write must read at least that write's WAL position; see the lag check below.
    CACHE_MARKER_MS: int(1000, 3_600_000).default(30_000),

    // Reader pages (GET /, GET /a/:id): how long a shared cache (the gateway, a CDN) may serve an anonymous copy,
    // and for how much longer a stale one while it fetches the next. Changes purge them at once (EDGE_PURGE_URLS).
    PAGE_CACHE_SECONDS: int(0, 86_400).default(60),
    PAGE_STALE_SECONDS: int(0, 86_400).default(30),
    // The edge caches to purge after a write: each gateway's admin base URL (`/_gateway/cache/purge` is appended).
    EDGE_PURGE_URLS: csv(httpUrl).default([]),
    // A purge-only token (the gateway's GATEWAY_PURGE_TOKEN); never logged. Required with EDGE_PURGE_URLS.
    EDGE_PURGE_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    EDGE_PURGE_TIMEOUT_MS: int(50, 10_000).default(500),

    RATE_LIMIT_ENABLED: bool.default(true),
    RATE_LIMIT_WINDOW_MS: int(1000, 3_600_000).default(60_000),
    RATE_LIMIT_MAX: int(1, 1_000_000).default(600),
    RATE_LIMIT_AUTH_WINDOW_MS: int(1000, 86_400_000).default(15 * 60_000),
    RATE_LIMIT_AUTH_IP_MAX: int(1, 1_000_000).default(30),
    RATE_LIMIT_AUTH_ACCOUNT_MAX: int(1, 1_000_000).default(10),
    // The general limit is counted locally and synced to Redis this often; 0 checks it in Redis on every request.
    RATE_LIMIT_SYNC_MS: int(0, 10_000).default(100),

    PASSWORD_HASH_MEMORY_KIB: int(8 * 1024, 1024 * 1024).default(19 * 1024),
    PASSWORD_HASH_ITERATIONS: int(1, 10).default(2),

    // Queues may live on their own Redis (noeviction), apart from a cache Redis that evicts.
    QUEUE_REDIS_URL: redisUrl.optional(),
    // Under Sentinel, the queues' own master; defaults to REDIS_MASTER_NAME.
    QUEUE_REDIS_MASTER_NAME: masterName.optional(),
    JOB_ATTEMPTS: int(1, 100).default(5),
    JOB_BACKOFF_MS: int(10, 3_600_000).default(2000),
    JOB_KEEP_COMPLETED_SECONDS: int(0, 30 * 24 * 3600).default(3600),
    JOB_KEEP_COMPLETED_COUNT: int(0, 10_000_000).default(10_000),
    JOB_KEEP_FAILED_SECONDS: int(60, 365 * 24 * 3600).default(14 * 24 * 3600),
    OUTBOX_RELAY_ENABLED: bool.default(true),
    OUTBOX_POLL_INTERVAL_MS: int(10, 60_000).default(1000),
    OUTBOX_BATCH_SIZE: int(1, 1000).default(100),
    OUTBOX_MAX_BACKOFF_MS: int(10, 300_000).default(10_000),
    OUTBOX_MAX_ATTEMPTS: int(1, 1000).default(10),

    WORKER_HTTP_PORT: port.default(3100),
    WORKER_CONCURRENCY: int(1, 1000).default(8),
    WORKER_AUTOSCALE: bool.default(false),
    WORKER_MIN_CONCURRENCY: int(1, 1000).default(1),
    WORKER_MAX_CONCURRENCY: int(1, 1000).default(32),
    WORKER_AUTOSCALE_INTERVAL_MS: int(100, 600_000).default(2000),
    WORKER_DRAIN_TIMEOUT_MS: int(0, 600_000).default(20_000),
    QUEUE_LOCK_DURATION_MS: int(500, 3_600_000).default(30_000),
    QUEUE_STALLED_INTERVAL_MS: int(100, 3_600_000).default(30_000),
    QUEUE_MAX_STALLED_COUNT: int(0, 100).default(2),

    ADMIN_ENABLED: bool.optional(),
    ADMIN_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  })
  .superRefine((env, ctx) => {
    const production = env.NODE_ENV === 'production';
    if (production && env.SESSION_SECRET === DEV_SESSION_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['SESSION_SECRET'], message: 'must be set in production' });
    }
    if (production && env.ADMIN_ENABLED && (env.ADMIN_TOKEN === undefined || env.ADMIN_TOKEN === DEV_ADMIN_TOKEN)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ADMIN_TOKEN'],
        message: 'must be set in production when ADMIN_ENABLED is true',
      });
    }
    if (env.EDGE_PURGE_URLS.length > 0 && env.EDGE_PURGE_TOKEN === undefined) {
      ctx.addIssue({ code: 'custom', path: ['EDGE_PURGE_TOKEN'], message: 'must be set with EDGE_PURGE_URLS' });
    }
    if (env.SESSION_TOUCH_AFTER_SECONDS >= env.SESSION_TTL_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        path: ['SESSION_TOUCH_AFTER_SECONDS'],
        message: 'must be less than SESSION_TTL_SECONDS',
      });
    }
    if (env.WORKER_MIN_CONCURRENCY > env.WORKER_MAX_CONCURRENCY) {
      ctx.addIssue({
        code: 'custom',
        path: ['WORKER_MIN_CONCURRENCY'],
        message: 'must not exceed WORKER_MAX_CONCURRENCY',
      });
    }
    // Under Sentinel no client may bypass it: a fixed URL would keep writing to a demoted master.
    for (const name of ['CACHE_REDIS_URL', 'QUEUE_REDIS_URL'] as const) {
      if (env.REDIS_SENTINELS && env[name]) {
        const instead = name.replace('_URL', '_MASTER_NAME');
        ctx.addIssue({ code: 'custom', path: [name], message: `not used with REDIS_SENTINELS; set ${instead}` });
      }
    }
    for (const name of ['CACHE_REDIS_MASTER_NAME', 'QUEUE_REDIS_MASTER_NAME'] as const) {
      if (!env.REDIS_SENTINELS && env[name]) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'only applies with REDIS_SENTINELS' });
      }
    }
    if (env.DB_NODES && (env.DB_PRIMARY || env.DB_REPLICAS.length)) {
      ctx.addIssue({
        code: 'custom',
        path: ['DB_NODES'],
        message: 'set either DB_NODES or DB_PRIMARY/DB_REPLICAS, not both',
      });
    }
    const names = env.DB_NODES?.map((n) => n.name) ?? ['primary', ...env.DB_REPLICAS.map((n) => n.name)];
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate) {
      ctx.addIssue({
        code: 'custom',
        path: [env.DB_NODES ? 'DB_NODES' : 'DB_REPLICAS'],
        message: `node name "${duplicate}" is used twice`,
      });
    }
    // After the marker expires a fill reads any replica within the lag limit; it must not be one that lacks the write.
    if (env.CACHE_ENABLED && env.CACHE_MARKER_MS <= env.DB_REPLICA_MAX_LAG_MS) {
      ctx.addIssue({ code: 'custom', path: ['CACHE_MARKER_MS'], message: 'must be longer than DB_REPLICA_MAX_LAG_MS' });
    }
    // After the TTL a session reads any replica within the lag limit; it must not be one that still lacks the write.
    if (env.DB_RYW_TTL_SECONDS * 1000 <= env.DB_REPLICA_MAX_LAG_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['DB_RYW_TTL_SECONDS'],
        message: 'must be longer than DB_REPLICA_MAX_LAG_MS',
      });
    }
  });

export const DEFAULT_DB_PRIMARY = 'postgres://postgres@127.0.0.1:54320/app';

export type Env = z.infer<typeof envSchema>;

/** host:port, the port being the one this program serves on (the API's PORT, a worker's WORKER_HTTP_PORT). */
export function defaultInstanceId(port: number): string {
  return `${hostname()}:${port}`;
}
