import { z } from 'zod';
import { defaultInstanceId, envSchema, type Env } from './config.schema';

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
    readonly debugHeaders: boolean;
    readonly staticMaxAgeSeconds: number;
  };
  readonly log: { readonly level: Env['LOG_LEVEL'] };
  readonly db: {
    readonly primaryUrl: string;
    readonly replicaUrls: readonly string[];
    readonly poolSize: number;
    readonly connectTimeoutMs: number;
    readonly queryTimeoutMs: number;
  };
  readonly redis: { readonly url: string; readonly commandTimeoutMs: number };
  readonly session: {
    readonly secret: string;
    readonly cookieName: string;
    readonly cookieSecure: boolean;
    readonly ttlSeconds: number;
  };
  readonly passwordHash: { readonly memoryKib: number; readonly iterations: number };
  readonly health: { readonly timeoutMs: number; readonly cacheMs: number };
  readonly shutdown: { readonly drainDelayMs: number; readonly timeoutMs: number };
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type EnvSource = Readonly<Record<string, string | undefined>>;

/** Validates the environment and builds AppConfig; throws ConfigError naming every bad variable. */
export function loadConfig(source: EnvSource = process.env): AppConfig {
  // An empty variable means "unset", so `FOO= npm run stack` falls back to the default instead of failing.
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map(describeIssue));
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  return deepFreeze({
    env: e.NODE_ENV,
    instanceId: e.INSTANCE_ID ?? defaultInstanceId(e),
    http: {
      host: e.HOST,
      port: e.PORT,
      bodyLimitBytes: e.HTTP_BODY_LIMIT_BYTES,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      trustProxy: e.TRUST_PROXY,
      debugHeaders: e.DEBUG_HEADERS ?? !production,
      staticMaxAgeSeconds: e.STATIC_MAX_AGE_SECONDS,
    },
    log: { level: e.LOG_LEVEL },
    db: {
      primaryUrl: e.DB_PRIMARY,
      replicaUrls: e.DB_REPLICAS,
      poolSize: e.DB_POOL_SIZE,
      connectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
      queryTimeoutMs: e.DB_QUERY_TIMEOUT_MS,
    },
    redis: { url: e.REDIS_URL, commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS },
    session: {
      secret: e.SESSION_SECRET,
      cookieName: e.SESSION_COOKIE_NAME,
      cookieSecure: e.SESSION_COOKIE_SECURE ?? production,
      ttlSeconds: e.SESSION_TTL_SECONDS,
    },
    passwordHash: { memoryKib: e.PASSWORD_HASH_MEMORY_KIB, iterations: e.PASSWORD_HASH_ITERATIONS },
    health: { timeoutMs: e.HEALTH_CHECK_TIMEOUT_MS, cacheMs: e.HEALTH_CACHE_MS },
    shutdown: { drainDelayMs: e.SHUTDOWN_DRAIN_DELAY_MS, timeoutMs: e.SHUTDOWN_TIMEOUT_MS },
  });
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
