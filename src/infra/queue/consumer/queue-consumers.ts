import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { Registry } from 'prom-client';
import { type AppConfig, InjectConfig } from '../../../config';
import { InjectMetrics } from '../../observability';
import { RedisConnections } from '../../redis';
import type { QueueName } from '../queue-names';
import { ConsumerMetrics } from './consumer.metrics';
import type { JobHandler } from './job-handler';
import { QueueConsumer } from './queue-consumer';

/**
 * The worker process's consumers. Feature modules register a handler per queue while the app initialises;
 * the BullMQ Workers start once everything is ready, with options from config (not decorator constants).
 */
@Injectable()
export class QueueConsumers implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(QueueConsumers.name);
  private readonly handlers = new Map<QueueName, JobHandler>();
  private readonly consumers: QueueConsumer[] = [];
  private readonly metrics: ConsumerMetrics;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    @InjectMetrics() registry: Registry,
    private readonly pino: PinoLogger,
    private readonly redis: RedisConnections,
  ) {
    this.metrics = new ConsumerMetrics(registry);
  }

  register(queue: QueueName, handler: JobHandler): void {
    if (this.handlers.has(queue)) throw new Error(`queue "${queue}" has two handlers`);
    this.handlers.set(queue, handler);
  }

  all(): readonly QueueConsumer[] {
    return this.consumers;
  }

  onApplicationBootstrap(): void {
    // A worker with nothing to consume would idle forever looking healthy: fail loudly instead.
    if (this.handlers.size === 0) throw new Error('the worker has no queue consumers registered');
    const { queue: q, worker: w, instanceId } = this.config;
    for (const [queue, handler] of this.handlers) {
      const consumer = new QueueConsumer({
        queue,
        handler,
        connection: this.redis.bullmqOptions('worker', queue),
        workerName: instanceId,
        concurrency: w.autoscale.enabled ? w.autoscale.min : w.concurrency,
        lockDurationMs: q.lockDurationMs,
        stalledIntervalMs: q.stalledIntervalMs,
        maxStalledCount: q.maxStalledCount,
        metrics: this.metrics,
        logContext: this.pino,
      });
      consumer.start();
      this.consumers.push(consumer);
      this.logger.log(`consuming "${queue}" with concurrency ${consumer.worker.concurrency}`);
    }
  }

  /** Every consumer drains in parallel against the same deadline. */
  async drain(timeoutMs: number): Promise<{ readonly requeued: number }> {
    const results = await Promise.all(this.consumers.map((c) => c.drain(timeoutMs)));
    return { requeued: results.reduce((sum, r) => sum + r.requeued, 0) };
  }

  async onApplicationShutdown(): Promise<void> {
    // After a drain this returns at once (close() is idempotent); without one it is the plain, unbounded close.
    await Promise.all(this.consumers.map((c) => c.worker.close()));
  }
}
