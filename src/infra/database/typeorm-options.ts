import type { Registry } from 'prom-client';
import type { AppConfig } from '../../config';
import { InitialSchema1764072000000 } from './migrations/1764072000000-initial-schema';
import { OutboxAndRenders1764500000000 } from './migrations/1764500000000-outbox-and-renders';
import { OutboxDeadLetters1765000000000 } from './migrations/1765000000000-outbox-dead-letters';
import { OutboxBacklogIndex1766000000000 } from './migrations/1766000000000-outbox-backlog-index';
import type { RoutingDataSourceOptions } from './routing/routing-data-source';

/** Every migration, oldest first. */
export const MIGRATIONS = [
  InitialSchema1764072000000,
  OutboxAndRenders1764500000000,
  OutboxDeadLetters1765000000000,
  OutboxBacklogIndex1766000000000,
];

/** Settings shared by the app and the migration CLI. `synchronize` stays off, as in production. */
export function routingDataSourceOptions(config: AppConfig, metrics?: Registry): RoutingDataSourceOptions {
  const { db } = config;
  return {
    type: 'postgres',
    // Every node serves the same database (streaming replicas are copies of the whole cluster).
    database: decodeURIComponent(new URL(db.nodes[0]!.url).pathname.slice(1)) || 'postgres',
    applicationName: config.instanceId,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'schema_migrations',
    migrations: MIGRATIONS,
    routing: {
      nodes: db.nodes,
      nodesFile: db.nodesFile,
      applicationName: config.instanceId,
      poolSize: db.poolSize,
      connectTimeoutMs: db.connectTimeoutMs,
      queryTimeoutMs: db.queryTimeoutMs,
      intervalMs: db.monitorIntervalMs,
      maxLagMs: db.replicaMaxLagMs,
      maxLagBytes: db.replicaMaxLagBytes,
      readStrategy: db.readStrategy,
      metrics,
    },
  };
}
