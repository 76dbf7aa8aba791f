import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { type AppConfig, InjectConfig } from '../../config';
import { InjectRedis, type RedisClient } from '../redis';
import { ReadinessRegistry } from './readiness.registry';

/**
 * Redis for sessions. The database registers its own checks (the current primary, and one per node) from
 * src/infra/database/database-readiness.ts, since only the topology monitor knows which node is the primary now.
 */
@Injectable()
export class CoreReadiness implements OnModuleInit {
  constructor(
    private readonly registry: ReadinessRegistry,
    private readonly indicators: HealthIndicatorService,
    @InjectRedis() private readonly redis: RedisClient,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const { timeoutMs, cacheMs } = this.config.health;
    // Each check has its own timeout, so a frozen dependency cannot stall the endpoint; results are
    // shared for cacheMs, so a storm of probes costs one round trip per dependency.
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
