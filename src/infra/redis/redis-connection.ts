import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { createRedisClient, type RedisClient, type RedisClientOptions } from './redis.client';

/** A Redis client owned by the Nest lifecycle: connected in the background at start, closed at shutdown. */
export class RedisConnection implements OnModuleInit, OnApplicationShutdown {
  readonly client: RedisClient;
  private readonly logger: Logger;

  constructor(options: RedisClientOptions) {
    this.client = createRedisClient(options);
    this.logger = new Logger(`Redis:${options.name}`);
  }

  onModuleInit(): void {
    // Not awaited: an instance must start (and report not-ready) while Redis is down.
    this.client.connect().catch((err: Error) => this.logger.warn(`initial connect failed: ${err.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.client.isOpen) await this.client.close().catch(() => this.client.destroy());
  }
}
