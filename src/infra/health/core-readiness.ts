import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { type AppConfig, InjectConfig } from '../../config';
import { type RedisClient, RedisConnections } from '../redis';
import { ReadinessRegistry } from './readiness.registry';

/**
 * Redis for sessions, cache and rate limits: shared by every instance, so its outage degrades, never ejects. The database registers its own checks (the current primary, and one per node) from
 * src/infra/database/database-readiness.ts, since only the topology monitor knows which node is the primary now.
 */
@Injectable()
export class CoreReadiness implements OnModuleInit {
  private readonly redis: RedisClient;

  constructor(
    private readonly registry: ReadinessRegistry,
    private readonly indicators: HealthIndicatorService,
    connections: RedisConnections,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    this.redis = connections.client('sessions');
  }

  onModuleInit(): void {
    const { timeoutMs, cacheMs } = this.config.health;
    // Each check has its own timeout, so a frozen dependency cannot stall the endpoint; results are
    // shared for cacheMs, so a storm of probes costs one round trip per dependency.
    this.registry.register(
      'redis',
      () =>
        this.indicators
          .check('redis')
          .attempt(async () => {
            if (this.redis.status !== 'ready') throw new Error(`not connected (${this.redis.status})`);
            await this.redis.ping();
          })
          .withTimeout(timeoutMs)
          .cacheFor(cacheMs),
      {
        whenDown:
          'anonymous reads go on (cache bypassed, rate limits fail open); signed-in requests get 503 until Redis returns',
      },
    );
  }
}
