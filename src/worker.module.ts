import { type DynamicModule, Module } from '@nestjs/common';
import { type AppConfig, ConfigModule } from './config';
import { CacheModule } from './infra/cache';
import { DatabaseModule } from './infra/database';
import { ObservabilityModule } from './infra/observability';
import { QueueModule } from './infra/queue';
import { RedisModule } from './infra/redis';
import { RenderingModule } from './modules/rendering';

/** The worker: config, logs and metrics, the primary, the cache (to invalidate what it renders), the queues, and the consumers. No HTTP API, no sessions. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule,
        DatabaseModule,
        RedisModule,
        CacheModule,
        QueueModule.forWorker(),
        RenderingModule,
      ],
    };
  }
}
