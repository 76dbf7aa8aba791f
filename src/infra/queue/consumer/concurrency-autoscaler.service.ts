import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type AppConfig, InjectConfig } from '../../../config';
import { QueueRegistry } from '../queue-registry';
import { nextConcurrency } from './concurrency-autoscaler';
import { QueueConsumers } from './queue-consumers';

/**
 * Optional (WORKER_AUTOSCALE): adjusts each consumer's concurrency to its queue's backlog within
 * WORKER_MIN/MAX_CONCURRENCY. It scales slots inside one process; the number of processes is KEDA's or HPA's job.
 */
@Injectable()
export class ConcurrencyAutoscalerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ConcurrencyAutoscaler');
  private timer?: NodeJS.Timeout;
  private ticking = false;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly consumers: QueueConsumers,
    private readonly queues: QueueRegistry,
  ) {}

  onApplicationBootstrap(): void {
    const { enabled, intervalMs } = this.config.worker.autoscale;
    if (enabled) this.timer = setInterval(() => void this.tick(), intervalMs);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const consumer of this.consumers.all()) {
        const backlog = await this.queues.get(consumer.queue)!.getWaitingCount();
        const current = consumer.worker.concurrency;
        const next = nextConcurrency(current, backlog, this.config.worker.autoscale);
        if (next === current) continue;
        consumer.setConcurrency(next);
        this.logger.log(`${consumer.queue}: concurrency ${current} -> ${next} (backlog ${backlog})`);
      }
    } catch (err) {
      this.logger.debug(`autoscaler skipped a tick: ${(err as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }
}
