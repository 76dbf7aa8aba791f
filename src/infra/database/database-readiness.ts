import { Injectable, type OnModuleInit, Optional } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { type AppConfig, InjectConfig } from '../../config';
import { ReadinessRegistry } from '../health';
import { routingOf } from './routing/routing-data-source';
import type { DbNode } from './topology/db-node';

/** What an instance still does without a primary: the read-only mode that readiness reports. */
export const READ_ONLY =
  'read-only: reads are served from replicas; writes get 503 with Retry-After until a primary is back';

/**
 * `primary`: a live ping of the current primary through the router; `degraded` (read-only mode) while there is none. `db:<node>`: one
 * check per node from the monitor's last probe, never a query, so a frozen node cannot stall /health/ready; a
 * replica that is down or lagging is `degraded` (still HTTP 200: reads fall back), with role, state and lag.
 */
@Injectable()
export class DatabaseReadiness implements OnModuleInit {
  private readonly registered = new Set<string>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
    @Optional() private readonly registry?: ReadinessRegistry,
    @Optional() private readonly indicators?: HealthIndicatorService,
  ) {}

  onModuleInit(): void {
    const { registry, indicators } = this;
    if (!registry || !indicators) return;
    const { topology, router } = routingOf(this.dataSource);
    const { timeoutMs, cacheMs } = this.config.health;
    registry.register(
      'primary',
      () =>
        indicators
          .check('primary')
          .attempt(() => router.pingPrimary())
          .withTimeout(timeoutMs)
          .cacheFor(cacheMs),
      { whenDown: READ_ONLY },
    );
    const sync = (nodes: readonly DbNode[]) => {
      const keys = new Set(nodes.map((n) => `db:${n.name}`));
      for (const key of this.registered) {
        if (keys.has(key)) continue;
        registry.unregister(key);
        this.registered.delete(key);
      }
      for (const node of nodes) {
        const key = `db:${node.name}`;
        if (this.registered.has(key)) continue;
        this.registered.add(key);
        registry.register(key, async () =>
          this.nodeCheck(
            indicators,
            key,
            topology.all().find((n) => n.name === node.name),
          ),
        );
      }
    };
    topology.subscribe({ nodesChanged: sync });
    sync(topology.all());
  }

  private nodeCheck(indicators: HealthIndicatorService, key: string, node: DbNode | undefined) {
    const check = indicators.check(key);
    if (!node) return check.degraded({ state: 'removed' });
    const { monitorIntervalMs, connectTimeoutMs } = this.config.db;
    // A probe overdue by more than its own timeout is stuck on a node that accepts connections but does not answer.
    const stuck =
      node.reachable &&
      node.observation &&
      Date.now() - node.observation.at > monitorIntervalMs * 1.2 + connectTimeoutMs;
    const details = {
      role: node.role,
      state: stuck ? 'not responding' : node.state,
      lagSeconds: node.lag ? Number(node.lag.seconds.toFixed(3)) : null,
      lagBytes: node.lag?.bytes ?? null,
      replayPaused: node.observation?.replayPaused ?? null,
      timeline: node.observation?.timeline ?? null,
      ...(node.lastError ? { error: node.lastError } : {}),
    };
    return details.state === 'healthy' ? check.up(details) : check.degraded(details);
  }
}
