import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { type AppConfig, InjectConfig } from '../../config';
import { InjectRedis, type RedisClient } from '../redis';
import { ReadinessRegistry } from './readiness.registry';

/** The dependencies every API instance needs: the primary for writes, Redis for sessions. */
@Injectable()
export class CoreReadiness implements OnModuleInit {
  constructor(
    private readonly registry: ReadinessRegistry,
    private readonly indicators: HealthIndicatorService,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRedis() private readonly redis: RedisClient,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const { timeoutMs, cacheMs } = this.config.health;
    // Each check has its own timeout, so a frozen dependency cannot stall the endpoint; results are
    // shared for cacheMs, so a storm of probes costs one round trip per dependency.
    this.registry.register('primary', () =>
      this.indicators.check('primary').attempt(() => this.dataSource.query('SELECT 1').then(() => undefined)).withTimeout(timeoutMs).cacheFor(cacheMs),
    );
    this.registry.register('redis', () =>
      this.indicators
        .check('redis')
        .attempt(async () => {
          if (!this.redis.isReady) throw new Error('not connected');
          await this.redis.ping();
        })
        .withTimeout(timeoutMs)
        .cacheFor(cacheMs),
    );
  }
}
