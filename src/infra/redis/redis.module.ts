import { Global, Inject, Injectable, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config';
import { createRedisClient, type RedisClient } from './redis.client';

export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

/** Injects the shared node-redis client (sessions, and later read-your-writes and cache leases). */
export const InjectRedis = (): ParameterDecorator => Inject(REDIS_CLIENT);

@Injectable()
class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  constructor(@Inject(REDIS_CLIENT) private readonly client: RedisClient) {}

  onModuleInit(): void {
    // Not awaited: an instance must start (and report not-ready) while Redis is down.
    this.client.connect().catch((err: Error) => this.logger.warn(`initial connect failed: ${err.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.client.isOpen) await this.client.close().catch(() => this.client.destroy());
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        createRedisClient({ url: config.redis.url, name: config.instanceId, commandTimeoutMs: config.redis.commandTimeoutMs }),
    },
    RedisLifecycle,
  ],
  exports: [REDIS_CLIENT],
})
export class RedisModule {}
