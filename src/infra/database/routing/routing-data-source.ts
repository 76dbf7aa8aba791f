import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions.js';
import { DatabaseMetrics } from '../database-metrics';
import { TopologyMonitor, type TopologySettings } from '../topology/topology-monitor';
import { ReplicaRouter } from './replica-router';
import type { ReadStrategy } from './replica-selection';
import { NO_OBSERVER } from './routing-observer';
import { RoutingPostgresDriver } from './routing-postgres-driver';

export interface RoutingSettings extends TopologySettings {
  readonly readStrategy: ReadStrategy;
  /** Where the db_* metrics go; none for the migration CLI. */
  readonly metrics?: Registry;
}

export type RoutingDataSourceOptions = PostgresDataSourceOptions & { readonly routing: RoutingSettings };

/** A TypeORM DataSource whose driver routes by topology; repositories and transactions use it unchanged. */
export function createRoutingDataSource(options: RoutingDataSourceOptions): DataSource {
  const { routing, ...typeorm } = options;
  const dataSource = new DataSource(typeorm);
  const topology = new TopologyMonitor(routing);
  const observer = routing.metrics ? new DatabaseMetrics(routing.metrics, topology) : NO_OBSERVER;
  // TypeORM has no driver plug-in point: replace the stock driver DataSource's constructor built.
  dataSource.driver = new RoutingPostgresDriver(
    dataSource,
    topology,
    new ReplicaRouter(topology, routing.readStrategy, observer),
  );
  return dataSource;
}

/** The monitor and router behind a DataSource made by createRoutingDataSource. */
export function routingOf(dataSource: DataSource): {
  readonly topology: TopologyMonitor;
  readonly router: ReplicaRouter;
} {
  if (!(dataSource.driver instanceof RoutingPostgresDriver))
    throw new Error('this DataSource was not made by createRoutingDataSource');
  return dataSource.driver;
}
