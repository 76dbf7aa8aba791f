import { Logger } from '@nestjs/common';
import { createClient, type RedisClientType } from 'redis';

export type RedisClient = RedisClientType;

export interface RedisClientOptions {
  readonly url: string;
  readonly name: string;
  readonly commandTimeoutMs: number;
}

/**
 * A node-redis client that never makes a request wait on a dead Redis: commands fail at once while
 * disconnected (no offline queue) and time out when Redis hangs, and it reconnects in the background.
 */
export function createRedisClient({ url, name, commandTimeoutMs }: RedisClientOptions): RedisClient {
  const logger = new Logger(`Redis:${name}`);
  const client: RedisClient = createClient({
    url,
    name,
    disableOfflineQueue: true,
    commandOptions: { timeout: commandTimeoutMs },
    socket: {
      connectTimeout: commandTimeoutMs,
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2000) + Math.floor(Math.random() * 100),
    },
  });
  let lastError = '';
  client.on('error', (err: Error) => {
    // Reconnect loops repeat the same error many times a second; log each distinct one once.
    if (err.message === lastError) return;
    lastError = err.message;
    logger.warn(`${err.message} (commands fail fast until it reconnects)`);
  });
  client.on('ready', () => {
    if (lastError) logger.log('reconnected');
    lastError = '';
  });
  return client;
}
