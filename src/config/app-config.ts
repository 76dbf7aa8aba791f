import { type z } from 'zod';
import {
  DEFAULT_DB_PRIMARY,
  type DbNodeConfig,
  DEV_ADMIN_TOKEN,
  defaultInstanceId,
  envSchema,
  type Env,
} from './config.schema';

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

/** Where a Redis client connects: one fixed server, or whichever server the Sentinels name master. */
export type RedisTarget =
  | { readonly kind: 'standalone'; readonly url: string }
  | { readonly kind: 'sentinel'; readonly sentinels: readonly RedisAddress[]; readonly masterName: string };

/** The one typed configuration object. Nothing else in the codebase reads process.env. */
export interface AppConfig {
  readonly env: Env['NODE_ENV'];
  readonly instanceId: string;
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    readonly keepAliveTimeoutMs: number;
    readonly trustProxy: string;
    readonly corsOrigins: readonly string[];
    readonly debugHeaders: boolean;
    readonly staticMaxAgeSeconds: number;
  };
  readonly log: { readonly level: Env['LOG_LEVEL'] };
  readonly db: {
    /** Every node, primary and replicas alike: roles are discovered, so a promotion needs no config change. */
    readonly nodes: readonly DbNodeConfig[];
    /** When set and valid, this file's node list replaces `nodes` and is re-read while running. */
    readonly nodesFile: string | undefined;
    readonly poolSize: number;
    readonly connectTimeoutMs: number;
    readonly queryTimeoutMs: number;
    readonly monitorIntervalMs: number;
    readonly replicaMaxLagMs: number;
    readonly replicaMaxLagBytes: number;
    readonly readStrategy: Env['DB_READ_STRATEGY'];
    readonly readYourWritesTtlSeconds: number;
  };
  readonly redis: {
    /** Sessions, read-your-writes positions, rate limits. */
    readonly target: RedisTarget;
    /** For the data nodes, when not in the URL. */
    readonly password: string | undefined;
    readonly commandTimeoutMs: number;
    /** WAIT 1 for at most this long after a new session or relayed jobs; 0 is off. */
    readonly replicaWaitMs: number;
  };
  readonly session: {
    readonly secret: string;
    readonly cookieName: string;
    readonly cookieSecure: boolean;
    readonly ttlSeconds: number;
    /** An unchanged session's expiry is written back at most this often. */
    readonly touchAfterSeconds: number;
  };
  readonly passwordHash: { readonly memoryKib: number; readonly iterations: number };
  readonly cache: {
    readonly enabled: boolean;
    readonly redis: RedisTarget;
    readonly timeoutMs: number;
    readonly ttlMs: number;
    readonly listTtlMs: number;
    readonly negativeTtlMs: number;
    readonly ttlJitter: number;
    readonly leaseMs: number;
    readonly leaseWaitMs: number;
    readonly markerMs: number;
  };
  /** Reader pages and the edge caches in front of them. */
  readonly pages: {
    readonly cacheSeconds: number;
    readonly staleSeconds: number;
    readonly purge: {
      readonly urls: readonly string[];
      readonly token: string | undefined;
      readonly timeoutMs: number;
    };
  };
  readonly rateLimit: {
    readonly enabled: boolean;
    readonly windowMs: number;
    readonly max: number;
    readonly authWindowMs: number;
    readonly authIpMax: number;
    readonly authAccountMax: number;
    /** How often the general limit's local counts meet in Redis; 0: a Redis round trip per check. */
    readonly syncMs: number;
  };
  readonly health: { readonly timeoutMs: number; readonly cacheMs: number; readonly maxEventLoopDelayMs: number };
  readonly shutdown: { readonly drainDelayMs: number; readonly timeoutMs: number };
  readonly queue: {
    readonly redis: RedisTarget;
    readonly commandTimeoutMs: number;
    readonly attempts: number;
    readonly backoffMs: number;
    readonly keepCompleted: { readonly ageSeconds: number; readonly count: number };
    readonly keepFailedSeconds: number;
    readonly lockDurationMs: number;
    readonly stalledIntervalMs: number;
    readonly maxStalledCount: number;
  };
  readonly outbox: {
    readonly relayEnabled: boolean;
    readonly pollIntervalMs: number;
    readonly batchSize: number;
    readonly maxBackoffMs: number;
    /** A row BullMQ refused this many times is dead-lettered (kept, never claimed again until retried). */
    readonly maxAttempts: number;
  };
  readonly worker: {
    readonly httpPort: number;
    readonly concurrency: number;
    readonly autoscale: {
      readonly enabled: boolean;
      readonly min: number;
      readonly max: number;
      readonly intervalMs: number;
    };
    readonly drainTimeoutMs: number;
  };
  /** The queue dashboard and job admin routes; off by default in production. */
  readonly admin: { readonly enabled: boolean; readonly token: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type EnvSource = Readonly<Record<string, string | undefined>>;

/** Which program reads the config: the default instance id names the port that program serves on. */
export type Program = 'api' | 'worker';

/** Validates the environment and builds AppConfig; throws ConfigError naming every bad variable. */
export function loadConfig(source: EnvSource = process.env, program: Program = 'api'): AppConfig {
  // An empty variable means "unset", so `FOO= npm run stack` falls back to the default instead of failing.
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map(describeIssue));
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  return deepFreeze({
    env: e.NODE_ENV,
    instanceId: e.INSTANCE_ID ?? defaultInstanceId(program === 'worker' ? e.WORKER_HTTP_PORT : e.PORT),
    http: {
      host: e.HOST,
      port: e.PORT,
      bodyLimitBytes: e.HTTP_BODY_LIMIT_BYTES,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      trustProxy: e.TRUST_PROXY,
      corsOrigins: e.CORS_ORIGINS,
      debugHeaders: e.DEBUG_HEADERS ?? !production,
      staticMaxAgeSeconds: e.STATIC_MAX_AGE_SECONDS,
    },
    log: { level: e.LOG_LEVEL },
    db: {
      nodes: e.DB_NODES ?? [{ name: 'primary', url: e.DB_PRIMARY ?? DEFAULT_DB_PRIMARY }, ...e.DB_REPLICAS],
      nodesFile: e.DB_NODES_FILE,
      poolSize: e.DB_POOL_SIZE,
      connectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
      queryTimeoutMs: e.DB_QUERY_TIMEOUT_MS,
      monitorIntervalMs: e.DB_MONITOR_INTERVAL_MS,
      replicaMaxLagMs: e.DB_REPLICA_MAX_LAG_MS,
      replicaMaxLagBytes: e.DB_REPLICA_MAX_LAG_BYTES,
      readStrategy: e.DB_READ_STRATEGY,
      readYourWritesTtlSeconds: e.DB_RYW_TTL_SECONDS,
    },
    redis: {
      target: redisTarget(e, e.REDIS_URL, e.REDIS_MASTER_NAME),
      password: e.REDIS_PASSWORD,
      commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
      replicaWaitMs: e.REDIS_REPLICA_WAIT_MS ?? (e.REDIS_SENTINELS ? 250 : 0),
    },
    session: {
      secret: e.SESSION_SECRET,
      cookieName: e.SESSION_COOKIE_NAME,
      cookieSecure: e.SESSION_COOKIE_SECURE ?? production,
      ttlSeconds: e.SESSION_TTL_SECONDS,
      touchAfterSeconds: e.SESSION_TOUCH_AFTER_SECONDS,
    },
    passwordHash: { memoryKib: e.PASSWORD_HASH_MEMORY_KIB, iterations: e.PASSWORD_HASH_ITERATIONS },
    cache: {
      enabled: e.CACHE_ENABLED,
      redis: redisTarget(e, e.CACHE_REDIS_URL ?? e.REDIS_URL, e.CACHE_REDIS_MASTER_NAME ?? e.REDIS_MASTER_NAME),
      timeoutMs: e.CACHE_TIMEOUT_MS,
      ttlMs: e.CACHE_TTL_MS,
      listTtlMs: e.CACHE_LIST_TTL_MS,
      negativeTtlMs: e.CACHE_NEGATIVE_TTL_MS,
      ttlJitter: e.CACHE_TTL_JITTER,
      leaseMs: e.CACHE_LEASE_MS,
      leaseWaitMs: e.CACHE_LEASE_WAIT_MS,
      markerMs: e.CACHE_MARKER_MS,
    },
    pages: {
      cacheSeconds: e.PAGE_CACHE_SECONDS,
      staleSeconds: e.PAGE_STALE_SECONDS,
      purge: { urls: e.EDGE_PURGE_URLS, token: e.EDGE_PURGE_TOKEN, timeoutMs: e.EDGE_PURGE_TIMEOUT_MS },
    },
    rateLimit: {
      enabled: e.RATE_LIMIT_ENABLED,
      windowMs: e.RATE_LIMIT_WINDOW_MS,
      max: e.RATE_LIMIT_MAX,
      authWindowMs: e.RATE_LIMIT_AUTH_WINDOW_MS,
      authIpMax: e.RATE_LIMIT_AUTH_IP_MAX,
      authAccountMax: e.RATE_LIMIT_AUTH_ACCOUNT_MAX,
      syncMs: e.RATE_LIMIT_SYNC_MS,
    },
    health: {
      timeoutMs: e.HEALTH_CHECK_TIMEOUT_MS,
      cacheMs: e.HEALTH_CACHE_MS,
      maxEventLoopDelayMs: e.HEALTH_MAX_EVENT_LOOP_DELAY_MS,
    },
    shutdown: { drainDelayMs: e.SHUTDOWN_DRAIN_DELAY_MS, timeoutMs: e.SHUTDOWN_TIMEOUT_MS },
    queue: {
      redis: redisTarget(e, e.QUEUE_REDIS_URL ?? e.REDIS_URL, e.QUEUE_REDIS_MASTER_NAME ?? e.REDIS_MASTER_NAME),
      commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
      attempts: e.JOB_ATTEMPTS,
      backoffMs: e.JOB_BACKOFF_MS,
      keepCompleted: { ageSeconds: e.JOB_KEEP_COMPLETED_SECONDS, count: e.JOB_KEEP_COMPLETED_COUNT },
      keepFailedSeconds: e.JOB_KEEP_FAILED_SECONDS,
      lockDurationMs: e.QUEUE_LOCK_DURATION_MS,
      stalledIntervalMs: e.QUEUE_STALLED_INTERVAL_MS,
      maxStalledCount: e.QUEUE_MAX_STALLED_COUNT,
    },
    outbox: {
      relayEnabled: e.OUTBOX_RELAY_ENABLED,
      pollIntervalMs: e.OUTBOX_POLL_INTERVAL_MS,
      batchSize: e.OUTBOX_BATCH_SIZE,
      maxBackoffMs: e.OUTBOX_MAX_BACKOFF_MS,
      maxAttempts: e.OUTBOX_MAX_ATTEMPTS,
    },
    worker: {
      httpPort: e.WORKER_HTTP_PORT,
      concurrency: e.WORKER_CONCURRENCY,
      autoscale: {
        enabled: e.WORKER_AUTOSCALE,
        min: e.WORKER_MIN_CONCURRENCY,
        max: e.WORKER_MAX_CONCURRENCY,
        intervalMs: e.WORKER_AUTOSCALE_INTERVAL_MS,
      },
      drainTimeoutMs: e.WORKER_DRAIN_TIMEOUT_MS,
    },
    admin: { enabled: e.ADMIN_ENABLED ?? !production, token: e.ADMIN_TOKEN ?? DEV_ADMIN_TOKEN },
  });
}

function redisTarget(e: Env, url: string, masterName: string): RedisTarget {
  return e.REDIS_SENTINELS
    ? { kind: 'sentinel', sentinels: e.REDIS_SENTINELS, masterName }
    : { kind: 'standalone', url };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const name = issue.path.join('.') || '(environment)';
  // Never echo the received value: it may be a secret.
  return `${name}: ${issue.message}`;
}

function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) if (v && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(value);
}
