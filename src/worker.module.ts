import { type DynamicModule, Module } from '@nestjs/common';
import { type AppConfig, ConfigModule } from './config';
import { DatabaseModule } from './infra/database';
import { ObservabilityModule } from './infra/observability';
import { QueueModule } from './infra/queue';
import { RenderingModule } from './modules/rendering';

/** The worker: config, logs and metrics, the primary, the queues, and the consumers. No HTTP API, no sessions. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [ConfigModule.forRoot(config), ObservabilityModule, DatabaseModule, QueueModule.forWorker(), RenderingModule],
    };
  }
}
