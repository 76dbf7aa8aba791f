import { Global, Inject, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config';
import { RedisConnection } from './redis-connection';

export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

/** Injects the shared node-redis client (sessions, rate-limit bookkeeping, read-your-writes positions). */
export const InjectRedis = (): ParameterDecorator => Inject(REDIS_CLIENT);

@Global()
@Module({
  providers: [
    {
      provide: RedisConnection,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new RedisConnection({ url: config.redis.url, name: config.instanceId, commandTimeoutMs: config.redis.commandTimeoutMs }),
    },
    { provide: REDIS_CLIENT, inject: [RedisConnection], useFactory: (connection: RedisConnection) => connection.client },
  ],
  exports: [REDIS_CLIENT],
})
export class RedisModule {}
