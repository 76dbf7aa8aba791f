import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { Queue } from 'bullmq';
import type { Registry } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../../config';
import { DrainState, ReadinessRegistry } from '../health';
import { METRICS_REGISTRY } from '../observability';
import { RedisConnections } from '../redis';
import { AdminJobsController } from './api/admin-jobs.controller';
import { AdminOutboxController } from './api/admin-outbox.controller';
import { JobLocator } from './api/job-locator';
import { JobsController } from './api/jobs.controller';
import { QueueReadiness } from './api/queue-readiness';
import { ConcurrencyAutoscalerService } from './consumer/concurrency-autoscaler.service';
import { QueueConsumers } from './consumer/queue-consumers';
import { registerQueueDepthMetrics } from './metrics/queue-depth.metrics';
import { OutboxCommitListener } from './outbox/outbox-commit.listener';
import { OutboxRelay } from './outbox/outbox-relay';
import { OutboxWriter } from './outbox/outbox-writer';
import { OutboxMetrics } from './outbox/outbox.metrics';
import { defaultJobOptions } from './queue-connection';
import { QUEUE_NAMES } from './queue-names';
import { QueueRegistry } from './queue-registry';
import { WorkerHttpServer } from './worker/worker-http.server';
import { WorkerReadiness } from './worker/worker-readiness';

/** Both processes: a fail-fast producer connection per queue, the registry over them, depth metrics. */
function queueCore(): { imports: DynamicModule[]; providers: Provider[] } {
  return {
    imports: [
      BullModule.forRootAsync({
        inject: [APP_CONFIG, RedisConnections],
        useFactory: (config: AppConfig, redis: RedisConnections) => ({
          // Options, not a client: BullMQ opens its own fail-fast connection per Queue (enableOfflineQueue off).
          connection: redis.bullmqOptions('queue'),
          defaultJobOptions: defaultJobOptions(config.queue),
        }),
      }),
      // Without the close on shutdown, a Queue whose Redis is gone could keep the process from exiting.
      BullModule.registerQueue(...QUEUE_NAMES.map((name) => ({ name, forceDisconnectOnShutdown: true }))),
    ],
    providers: [
      {
        provide: QueueRegistry,
        inject: QUEUE_NAMES.map((n) => getQueueToken(n)),
        useFactory: (...queues: Queue[]) => new QueueRegistry(queues),
      },
      {
        provide: 'QUEUE_DEPTH_METRICS',
        inject: [METRICS_REGISTRY, QueueRegistry, APP_CONFIG],
        useFactory: (registry: Registry, queues: QueueRegistry, config: AppConfig) =>
          registerQueueDepthMetrics(registry, queues, config.health.timeoutMs),
      },
    ],
  };
}

/**
 * BullMQ, two ways. The API produces through the transactional outbox and consumes nothing; the worker
 * consumes, with handlers that feature modules register on QueueConsumers.
 */
@Module({})
export class QueueModule {
  static forApi(): DynamicModule {
    const core = queueCore();
    return {
      module: QueueModule,
      global: true,
      imports: core.imports,
      controllers: [JobsController, AdminJobsController, AdminOutboxController],
      providers: [
        ...core.providers,
        OutboxWriter,
        OutboxRelay,
        OutboxCommitListener,
        OutboxMetrics,
        JobLocator,
        QueueReadiness,
      ],
      exports: [OutboxWriter, QueueRegistry],
    };
  }

  static forWorker(): DynamicModule {
    const core = queueCore();
    return {
      module: QueueModule,
      global: true,
      imports: [...core.imports, TerminusModule.forRoot({ errorLogStyle: 'json', logger: false })],
      providers: [
        ...core.providers,
        QueueConsumers,
        ConcurrencyAutoscalerService,
        ReadinessRegistry,
        DrainState,
        WorkerReadiness,
        WorkerHttpServer,
      ],
      exports: [QueueConsumers, QueueRegistry, DrainState],
    };
  }
}
