import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { type AppConfig, InjectConfig } from '../../../config';
import { ReadinessRegistry } from '../../health';
import { QueueRegistry } from '../queue-registry';

/** A worker needs both ends of its work: the queue's Redis to take jobs, the primary to apply them. */
@Injectable()
export class WorkerReadiness implements OnModuleInit {
  constructor(
    private readonly registry: ReadinessRegistry,
    private readonly indicators: HealthIndicatorService,
    private readonly queues: QueueRegistry,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const { timeoutMs, cacheMs } = this.config.health;
    this.registry.register('primary', () =>
      this.indicators
        .check('primary')
        .attempt(() => this.dataSource.query('SELECT 1').then(() => undefined))
        .withTimeout(timeoutMs)
        .cacheFor(cacheMs),
    );
    this.registry.register('queue', () =>
      this.indicators
        .check('queue')
        .attempt(() => this.queues.ping())
        .withTimeout(timeoutMs)
        .cacheFor(cacheMs),
    );
  }
}
