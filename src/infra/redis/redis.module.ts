import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config';
import { RedisConnections } from './redis-connections';

/** Every Redis connection of the process comes from RedisConnections; clients are built on first use. */
@Global()
@Module({
  providers: [
    {
      provide: RedisConnections,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new RedisConnections(config),
    },
  ],
  exports: [RedisConnections],
})
export class RedisModule {}
