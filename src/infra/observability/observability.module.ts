import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config';
import { LoggerModule } from './logger.module';
import { createMetricsRegistry, METRICS_REGISTRY } from './metrics';
import { MetricsController } from './metrics.controller';

@Global()
@Module({
  imports: [LoggerModule],
  controllers: [MetricsController],
  providers: [
    {
      provide: METRICS_REGISTRY,
      inject: [APP_CONFIG],
      useFactory: (c: AppConfig) => createMetricsRegistry({ instance: c.instanceId }),
    },
  ],
  exports: [METRICS_REGISTRY],
})
export class ObservabilityModule {}
