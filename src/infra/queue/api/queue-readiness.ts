import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { type AppConfig, InjectConfig } from '../../../config';
import { ReadinessRegistry } from '../../health';
import { QueueRegistry } from '../queue-registry';

/**
 * The API's view of the queue: a down queue Redis is `degraded`, not `down`. Writes still succeed (their jobs
 * wait in the outbox), so taking every instance out of rotation over it would turn a delay into an outage.
 */
@Injectable()
export class QueueReadiness implements OnModuleInit {
  constructor(
    private readonly registry: ReadinessRegistry,
    private readonly indicators: HealthIndicatorService,
    private readonly queues: QueueRegistry,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const { timeoutMs, cacheMs } = this.config.health;
    this.registry.register('queue', async (): Promise<HealthIndicatorResult> => {
      const result = await this.indicators
        .check('queue')
        .attempt(() => this.queues.ping())
        .withTimeout(timeoutMs)
        .cacheFor(cacheMs);
      if (result.queue.status !== 'down') return result;
      return this.indicators
        .check('queue')
        .degraded({ message: 'queue unreachable: jobs wait in the outbox until it returns' });
    });
  }
}
