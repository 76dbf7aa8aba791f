import type { DataSource, ReplicationMode } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import type { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner.js';
import type { TopologyMonitor } from '../topology/topology-monitor';
import type { ReplicaRouter } from './replica-router';
import { RoutingQueryRunner } from './routing-query-runner';

/**
 * TypeORM's PostgreSQL driver with connections owned by the TopologyMonitor (one pool per node) and handed out
 * by the ReplicaRouter. A subclass rather than TypeORM's `replication` option, whose pools are fixed at startup,
 * picked with Math.random and never health-checked; and rather than patching methods on a driver instance,
 * because `override` makes the compiler check every seam against TypeORM's own declarations.
 */
export class RoutingPostgresDriver extends PostgresDriver {
  constructor(
    dataSource: DataSource,
    readonly topology: TopologyMonitor,
    readonly router: ReplicaRouter,
  ) {
    super(dataSource);
    // Makes TypeORM hand reads ('slave' runners: find*, SelectQueryBuilder) to the router's read path.
    this.isReplicated = true;
  }

  /** Never fails for an unreachable node: the app starts with replicas (or, briefly, the primary) down. */
  override async connect(): Promise<void> {
    await this.topology.start();
    this.version ??= this.topology.serverVersion()?.replace(/^([\d.]+).*$/, '$1');
    this.searchSchema ??= this.topology.searchSchema() ?? 'public';
    this.schema ??= this.searchSchema;
  }

  /** Extensions belong to the migrations; nothing at startup may need the primary. PostgreSQL 12+ is assumed. */
  override async afterConnect(): Promise<void> {
    this.isGeneratedColumnsSupported = true;
  }

  override async disconnect(): Promise<void> {
    for (const runner of [...this.connectedQueryRunners]) await runner.release();
    await this.topology.stop();
  }

  override createQueryRunner(mode: ReplicationMode): PostgresQueryRunner {
    return new RoutingQueryRunner(this, mode);
  }

  // TypeORM's own signature: [the pg client, its release function].
  // eslint-disable-next-line @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-function-type
  override async obtainMasterConnection(): Promise<[any, Function]> {
    const lease = await this.router.primary();
    return [lease.client, (err?: Error) => lease.client.release(err)];
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-function-type
  override async obtainSlaveConnection(): Promise<[any, Function]> {
    const lease = await this.router.read();
    return [lease.client, (err?: Error) => lease.client.release(err)];
  }
}
