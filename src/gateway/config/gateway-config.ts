import type { z } from 'zod';
import { gatewayEnvSchema, type GatewayEnv } from './gateway-config.schema';

export type Discovery =
  | { readonly kind: 'static'; readonly upstreams: readonly string[] }
  | {
      readonly kind: 'dns';
      readonly host: string;
      readonly port: number;
      readonly intervalMs: number;
      readonly servers: readonly string[];
    };

/** The gateway's one typed configuration object; main.ts is the only caller of loadGatewayConfig. */
export interface GatewayConfig {
  readonly production: boolean;
  readonly logLevel: GatewayEnv['GATEWAY_LOG_LEVEL'];
  readonly listen: { readonly host: string; readonly port: number };
  readonly discovery: Discovery;
  readonly upstream: {
    readonly connections: number;
    readonly connectTimeoutMs: number;
    readonly responseTimeoutMs: number;
    readonly idleTimeoutMs: number;
  };
  readonly health: {
    readonly path: string;
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly rise: number;
    readonly fall: number;
  };
  readonly ejection: { readonly baseMs: number; readonly maxMs: number };
  readonly retry: { readonly tries: number; readonly requestTimeoutMs: number };
  readonly trustedProxies: readonly string[];
  readonly privatePaths: readonly string[];
  readonly limits: {
    readonly maxHeaderBytes: number;
    readonly maxBodyBytes: number;
    readonly headersTimeoutMs: number;
    readonly bodyTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
    readonly maxConnections: number;
  };
  readonly sticky: { readonly enabled: boolean; readonly cookie: string };
  readonly cache: {
    readonly enabled: boolean;
    readonly maxBytes: number;
    readonly maxEntryBytes: number;
    readonly staleIfErrorSeconds: number;
  };
  readonly admin: {
    readonly token?: string;
    /** Purge-only: POST /_gateway/cache/purge. */
    readonly purgeToken?: string;
    readonly port?: number;
    readonly host: string;
  };
  readonly shutdownTimeoutMs: number;
  /** The architecture page's scrapes of every API instance and worker (only while a page is open). */
  readonly observe: {
    readonly workers: readonly string[];
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly maxClients: number;
  };
}

export class GatewayConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid gateway configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'GatewayConfigError';
  }
}

type EnvSource = Readonly<Record<string, string | undefined>>;

/** Validates the environment and builds GatewayConfig; throws GatewayConfigError naming every bad variable. */
export function loadGatewayConfig(source: EnvSource = process.env): GatewayConfig {
  // An empty variable means "unset", as in the API's config.
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = gatewayEnvSchema.safeParse(present);
  if (!parsed.success) throw new GatewayConfigError(parsed.error.issues.map(describeIssue));
  const e = parsed.data;
  return deepFreeze({
    production: e.NODE_ENV === 'production',
    logLevel: e.GATEWAY_LOG_LEVEL,
    listen: { host: e.GATEWAY_HOST, port: e.GATEWAY_PORT },
    discovery: discoveryOf(e),
    upstream: {
      connections: e.UPSTREAM_CONNECTIONS,
      connectTimeoutMs: e.UPSTREAM_CONNECT_TIMEOUT_MS,
      responseTimeoutMs: e.UPSTREAM_RESPONSE_TIMEOUT_MS,
      idleTimeoutMs: e.UPSTREAM_IDLE_TIMEOUT_MS,
    },
    health: {
      path: e.UPSTREAM_HEALTH_PATH,
      intervalMs: e.UPSTREAM_HEALTH_INTERVAL_MS,
      timeoutMs: e.UPSTREAM_HEALTH_TIMEOUT_MS,
      rise: e.UPSTREAM_HEALTH_RISE,
      fall: e.UPSTREAM_HEALTH_FALL,
    },
    ejection: { baseMs: e.UPSTREAM_EJECT_BASE_MS, maxMs: e.UPSTREAM_EJECT_MAX_MS },
    retry: { tries: e.GATEWAY_RETRY_TRIES, requestTimeoutMs: e.GATEWAY_REQUEST_TIMEOUT_MS },
    trustedProxies: e.GATEWAY_TRUSTED_PROXIES,
    privatePaths: e.GATEWAY_PRIVATE_PATHS,
    limits: {
      maxHeaderBytes: e.GATEWAY_MAX_HEADER_BYTES,
      maxBodyBytes: e.GATEWAY_MAX_BODY_BYTES,
      headersTimeoutMs: e.GATEWAY_HEADERS_TIMEOUT_MS,
      bodyTimeoutMs: e.GATEWAY_BODY_TIMEOUT_MS,
      keepAliveTimeoutMs: e.GATEWAY_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: e.GATEWAY_MAX_CONNECTIONS,
    },
    sticky: { enabled: e.GATEWAY_STICKY_SESSIONS, cookie: e.GATEWAY_STICKY_COOKIE },
    cache: {
      enabled: e.EDGE_CACHE_ENABLED && e.EDGE_CACHE_MAX_BYTES > 0,
      maxBytes: e.EDGE_CACHE_MAX_BYTES,
      maxEntryBytes: e.EDGE_CACHE_MAX_ENTRY_BYTES,
      staleIfErrorSeconds: e.EDGE_CACHE_STALE_IF_ERROR_SECONDS,
    },
    admin: {
      token: e.GATEWAY_ADMIN_TOKEN,
      purgeToken: e.GATEWAY_PURGE_TOKEN,
      port: e.GATEWAY_ADMIN_PORT,
      host: e.GATEWAY_ADMIN_HOST,
    },
    shutdownTimeoutMs: e.GATEWAY_SHUTDOWN_TIMEOUT_MS,
    observe: {
      workers: e.GATEWAY_OBSERVE_WORKERS.map((u) => u.replace(/\/$/, '')),
      intervalMs: e.GATEWAY_OBSERVE_INTERVAL_MS,
      timeoutMs: e.GATEWAY_OBSERVE_TIMEOUT_MS,
      maxClients: e.GATEWAY_OBSERVE_MAX_CLIENTS,
    },
  });
}

function discoveryOf(e: GatewayEnv): Discovery {
  if (e.UPSTREAM_DNS) {
    const sep = e.UPSTREAM_DNS.lastIndexOf(':');
    return {
      kind: 'dns',
      host: e.UPSTREAM_DNS.slice(0, sep),
      port: Number(e.UPSTREAM_DNS.slice(sep + 1)),
      intervalMs: e.UPSTREAM_DNS_INTERVAL_MS,
      servers: e.UPSTREAM_DNS_SERVERS ?? [],
    };
  }
  return { kind: 'static', upstreams: (e.UPSTREAMS ?? []).map((u) => u.replace(/\/$/, '')) };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const [name = '(environment)', index] = issue.path;
  // Never echo the received value: GATEWAY_ADMIN_TOKEN is a secret.
  return typeof index === 'number'
    ? `${String(name)}: entry ${index + 1}: ${issue.message}`
    : `${String(name)}: ${issue.message}`;
}

function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) if (v && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(value);
}
