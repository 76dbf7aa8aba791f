import { z } from 'zod';

// The gateway is its own program: it shares no code with src/config, only the validation style.
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const port = int(1, 65535);
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

const upstreamUrl = z
  .string()
  .url()
  .refine((v) => /^http:\/\/[^/]+\/?$/.test(v), 'must be an http://host:port origin without a path');
const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port')
  .refine((v) => Number(v.split(':')[1]) >= 1 && Number(v.split(':')[1]) <= 65535, 'port must be 1-65535');
const dnsServer = z
  .string()
  .regex(/^[\d.]+(:\d{1,5})?$|^\[[\da-fA-F:]+\](:\d{1,5})?$/, 'must be an IP address with an optional :port');

const KIB = 1024;
const MIB = 1024 * KIB;

/** Every environment variable the gateway reads, with its local default. Names are the env names. */
export const gatewayEnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
    GATEWAY_PORT: port.default(8080),
    GATEWAY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    // Discovery: a static list, or a DNS name re-resolved on an interval (compose --scale, headless services).
    UPSTREAMS: csv(upstreamUrl).optional(),
    UPSTREAM_DNS: hostPort.optional(),
    UPSTREAM_DNS_INTERVAL_MS: int(100, 3_600_000).default(5000),
    UPSTREAM_DNS_SERVERS: csv(dnsServer).optional(),

    UPSTREAM_CONNECTIONS: int(1, 4096).default(128),
    UPSTREAM_CONNECT_TIMEOUT_MS: int(10, 60_000).default(1000),
    UPSTREAM_RESPONSE_TIMEOUT_MS: int(10, 600_000).default(30_000),
    // Below the API's keep-alive timeout (65 s), so the gateway, not the API, closes idle connections.
    UPSTREAM_IDLE_TIMEOUT_MS: int(100, 600_000).default(60_000),

    UPSTREAM_HEALTH_PATH: z
      .string()
      .regex(/^\/\S*$/, 'must be a path starting with /')
      .default('/health/ready'),
    UPSTREAM_HEALTH_INTERVAL_MS: int(50, 600_000).default(1000),
    UPSTREAM_HEALTH_TIMEOUT_MS: int(10, 60_000).default(800),
    UPSTREAM_HEALTH_RISE: int(1, 100).default(2),
    UPSTREAM_HEALTH_FALL: int(1, 100).default(2),
    UPSTREAM_EJECT_BASE_MS: int(10, 600_000).default(1000),
    UPSTREAM_EJECT_MAX_MS: int(10, 3_600_000).default(30_000),

    GATEWAY_RETRY_TRIES: int(1, 10).default(3),
    GATEWAY_REQUEST_TIMEOUT_MS: int(50, 600_000).default(30_000),
    GATEWAY_TRUSTED_PROXIES: csv(
      z.string().regex(/^[\da-fA-F.:/]+$|^(loopback|linklocal|uniquelocal)$/, 'must be IPs or CIDRs'),
    ).default([]),

    GATEWAY_MAX_HEADER_BYTES: int(1 * KIB, 1 * MIB).default(16 * KIB),
    GATEWAY_MAX_BODY_BYTES: int(1 * KIB, 1024 * MIB).default(1 * MIB),
    GATEWAY_HEADERS_TIMEOUT_MS: int(50, 600_000).default(10_000),
    GATEWAY_BODY_TIMEOUT_MS: int(50, 3_600_000).default(30_000),
    GATEWAY_KEEP_ALIVE_TIMEOUT_MS: int(50, 600_000).default(30_000),
    GATEWAY_MAX_CONNECTIONS: int(1, 1_000_000).default(4096),

    GATEWAY_STICKY_SESSIONS: bool.default(false),
    GATEWAY_STICKY_COOKIE: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .default('gw_upstream'),

    EDGE_CACHE_ENABLED: bool.default(true),
    EDGE_CACHE_MAX_BYTES: int(0, 64 * 1024 * MIB).default(64 * MIB),
    EDGE_CACHE_MAX_ENTRY_BYTES: int(1, 1024 * MIB).default(1 * MIB),
    EDGE_CACHE_STALE_IF_ERROR_SECONDS: int(0, 7 * 24 * 3600).default(60),

    GATEWAY_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    // Opens POST /_gateway/cache/purge and nothing else: what an origin holds to purge the pages it changed.
    GATEWAY_PURGE_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    GATEWAY_ADMIN_PORT: port.optional(),
    GATEWAY_ADMIN_HOST: z.string().min(1).default('127.0.0.1'),

    GATEWAY_SHUTDOWN_TIMEOUT_MS: int(100, 600_000).default(30_000),

    // Never forwarded: the instances' own metrics stay on the private network. `none` forwards everything.
    GATEWAY_PRIVATE_PATHS: z
      .string()
      .default('/metrics')
      .transform((v) =>
        v.trim() === 'none'
          ? []
          : v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^\/\S*$/, 'must be paths starting with /, or none'))),

    // The live architecture page (/_gateway/): workers have no upstream role, so their addresses come from here.
    GATEWAY_OBSERVE_WORKERS: csv(upstreamUrl).default([]),
    GATEWAY_OBSERVE_INTERVAL_MS: int(100, 60_000).default(1000),
    GATEWAY_OBSERVE_TIMEOUT_MS: int(50, 60_000).default(800),
    GATEWAY_OBSERVE_MAX_CLIENTS: int(1, 1000).default(16),
  })
  .superRefine((env, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (!env.UPSTREAMS?.length && !env.UPSTREAM_DNS)
      issue('UPSTREAMS', 'set UPSTREAMS (a list of http://host:port) or UPSTREAM_DNS (host:port)');
    if (env.UPSTREAMS?.length && env.UPSTREAM_DNS)
      issue('UPSTREAM_DNS', 'set either UPSTREAMS or UPSTREAM_DNS, not both');
    if (env.UPSTREAM_HEALTH_TIMEOUT_MS >= env.UPSTREAM_HEALTH_INTERVAL_MS) {
      issue('UPSTREAM_HEALTH_TIMEOUT_MS', 'must be below UPSTREAM_HEALTH_INTERVAL_MS, or checks pile up');
    }
    if (env.UPSTREAM_EJECT_MAX_MS < env.UPSTREAM_EJECT_BASE_MS)
      issue('UPSTREAM_EJECT_MAX_MS', 'must be at least UPSTREAM_EJECT_BASE_MS');
    if (env.EDGE_CACHE_MAX_ENTRY_BYTES > env.EDGE_CACHE_MAX_BYTES && env.EDGE_CACHE_ENABLED) {
      issue('EDGE_CACHE_MAX_ENTRY_BYTES', 'must not exceed EDGE_CACHE_MAX_BYTES');
    }
    if (env.GATEWAY_OBSERVE_TIMEOUT_MS >= env.GATEWAY_OBSERVE_INTERVAL_MS) {
      issue(
        'GATEWAY_OBSERVE_TIMEOUT_MS',
        'must be below GATEWAY_OBSERVE_INTERVAL_MS, so a hung instance cannot delay the next update',
      );
    }
    if (env.GATEWAY_ADMIN_PORT !== undefined && env.GATEWAY_ADMIN_PORT === env.GATEWAY_PORT) {
      issue('GATEWAY_ADMIN_PORT', 'must differ from GATEWAY_PORT');
    }
  });

export type GatewayEnv = z.infer<typeof gatewayEnvSchema>;
