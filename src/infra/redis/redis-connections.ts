import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import type { AppConfig, RedisTarget } from '../../config';
import { type ClientOptions, failFastOptions, patientOptions } from './redis-options';
import { withinDeadline } from './reply-deadline';

/** What a request-path client is for: each gets its own connection and its own name in CLIENT LIST. */
export type RedisPurpose = 'sessions' | 'cache' | 'rate-limit';

/** BullMQ's two kinds of connection: fail-fast Queue objects (producers, lookups) and patient Workers. */
export type BullmqConnectionKind = 'queue' | 'worker';

const QUIT_TIMEOUT_MS = 1000;

/**
 * The one owner of Redis connections (house plan: one owner per external client). Builds every ioredis client,
 * and the options of libraries that open their own (BullMQ), from config: standalone or Sentinel.
 * Closes every client it built at shutdown; those libraries close what they open.
 */
export class RedisConnections implements OnApplicationShutdown {
  private readonly clients = new Map<RedisPurpose, Redis>();

  constructor(
    private readonly config: AppConfig,
    private readonly createClient: (options: RedisOptions) => Redis = (options) => new Redis(options),
  ) {}

  /** The shared client for a purpose, connecting in the background (an instance starts, not-ready, while Redis is down). */
  client(purpose: RedisPurpose): Redis {
    let client = this.clients.get(purpose);
    if (!client) {
      const { target, deadlineMs } = this.purposeOf(purpose);
      client = this.createClient(failFastOptions(target, this.config.redis.password, this.nameOf(purpose), deadlineMs));
      watch(client, purpose);
      this.clients.set(purpose, client);
    }
    return client;
  }

  /** How long a caller of this purpose waits for a reply (the cache's is far shorter than the sessions'). */
  deadlineMs(purpose: RedisPurpose): number {
    return this.purposeOf(purpose).deadlineMs;
  }

  /** Options, not a client: BullMQ opens (and closes) its own connections; `label` names them in CLIENT LIST. */
  bullmqOptions(kind: BullmqConnectionKind, label: string = kind === 'queue' ? 'producer' : 'worker'): ClientOptions {
    const { redis: target, commandTimeoutMs } = this.config.queue;
    const { password } = this.config.redis;
    return kind === 'queue'
      ? failFastOptions(target, password, this.nameOf(label), commandTimeoutMs)
      : patientOptions(target, password, this.nameOf(label));
  }

  async onApplicationShutdown(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((c) => withinDeadline(c.quit(), QUIT_TIMEOUT_MS).catch(() => c.disconnect())));
  }

  private purposeOf(purpose: RedisPurpose): { target: RedisTarget; deadlineMs: number } {
    return purpose === 'cache'
      ? { target: this.config.cache.redis, deadlineMs: this.config.cache.timeoutMs }
      : { target: this.config.redis.target, deadlineMs: this.config.redis.commandTimeoutMs };
  }

  private nameOf(label: string): string {
    return `${this.config.instanceId}:${label}`;
  }
}

/** An 'error' event without a listener would crash the process; reconnect loops repeat one error, so log each once. */
function watch(client: Redis, purpose: RedisPurpose): void {
  const logger = new Logger(`Redis:${purpose}`);
  let lastError = '';
  client.on('error', (err: Error) => {
    if (err.message === lastError) return;
    lastError = err.message;
    logger.warn(`${err.message} (commands fail fast until it reconnects)`);
  });
  client.on('ready', () => {
    if (lastError) logger.log('reconnected');
    lastError = '';
  });
}
