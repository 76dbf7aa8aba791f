import type { RedisOptions } from 'ioredis';
import type { RedisTarget } from '../../config';

// Measured with kill -9 of a Sentinel master (test/e2e/redis-sentinel.e2e-spec.ts): these recover in ~2.5 s.
const CONNECT_TIMEOUT_MS = 500;
const SENTINEL_COMMAND_TIMEOUT_MS = 500;

/** Where to connect: host/port/password from a URL, or the Sentinels and the master's name. Never logged. */
export function targetOptions(target: RedisTarget, password: string | undefined): RedisOptions {
  if (target.kind === 'sentinel') {
    return {
      sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
      name: target.masterName,
      sentinelCommandTimeout: SENTINEL_COMMAND_TIMEOUT_MS,
      ...(password ? { password } : {}),
    };
  }
  const url = new URL(target.url);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  const urlPassword = url.password ? decodeURIComponent(url.password) : undefined;
  return {
    // WHATWG keeps the brackets of an IPv6 host; net.connect wants the bare address.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : 6379,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...((urlPassword ?? password) ? { password: urlPassword ?? password } : {}),
    ...(db ? { db } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** ioredis options with a retryStrategy that always retries: BullMQ's own options type accepts no null strategy. */
export type ClientOptions = Omit<RedisOptions, 'retryStrategy'> & {
  readonly retryStrategy: (attempt: number) => number;
};

/** Short, jittered reconnects: a new master is found within half a second of Sentinel naming it. */
export const reconnectDelay = (attempt: number): number => Math.min(attempt * 50, 500) + Math.floor(Math.random() * 50);

/** The first word of a Redis error reply is its code (READONLY, NOSCRIPT, ...); ioredis keeps it only in the message. */
export function redisErrorCode(err: unknown): string | undefined {
  if (!(err instanceof Error) || err.name !== 'ReplyError') return undefined;
  return /^[A-Z]+/.exec(err.message)?.[0];
}

/** Options every client of ours shares: its name in CLIENT LIST, reconnects, and following a demoted master. */
function commonOptions(connectionName: string): ClientOptions {
  return {
    connectionName,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: reconnectDelay,
    // A master demoted under us answers READONLY: reconnect (through Sentinel) and resend, rather than fail every write.
    reconnectOnError: (err) => (redisErrorCode(err) === 'READONLY' ? 2 : false),
  };
}

/**
 * For the request path (sessions, cache, rate limits, BullMQ producers): commands fail at once while disconnected
 * instead of queueing, and `commandTimeout` is a backstop at twice the deadline, since every caller already bounds
 * its wait with withinDeadline (which, unlike a plain timer, does not blame Redis for our own busy event loop).
 */
export function failFastOptions(
  target: RedisTarget,
  password: string | undefined,
  connectionName: string,
  deadlineMs: number,
): ClientOptions {
  return {
    ...targetOptions(target, password),
    ...commonOptions(connectionName),
    enableOfflineQueue: false,
    commandTimeout: deadlineMs * 2,
    maxRetriesPerRequest: 1,
  };
}

/** For BullMQ Workers: blocking commands need `maxRetriesPerRequest: null`, and a worker simply waits for Redis. */
export function patientOptions(
  target: RedisTarget,
  password: string | undefined,
  connectionName: string,
): ClientOptions {
  return { ...targetOptions(target, password), ...commonOptions(connectionName), maxRetriesPerRequest: null };
}
