import { type DynamicModule, Module } from '@nestjs/common';
import { type AppConfig, ConfigModule } from './config';
import { CacheModule } from './infra/cache';
import { DatabaseModule } from './infra/database';
import { HealthModule } from './infra/health';
import { ObservabilityModule } from './infra/observability';
import { QueueModule } from './infra/queue';
import { RateLimitModule } from './infra/rate-limit';
import { RedisModule } from './infra/redis';
import { SessionModule } from './infra/session';
import { AccountsModule } from './modules/accounts';
import { ArticlesModule } from './modules/articles';
import { PagesModule } from './modules/pages';

/** The API instance: infrastructure first, then the business features on top of it. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule,
        DatabaseModule,
        RedisModule,
        CacheModule,
        SessionModule,
        RateLimitModule.forRoot(config),
        HealthModule,
        QueueModule.forApi(),
        AccountsModule,
        ArticlesModule,
        PagesModule,
      ],
    };
  }
}
