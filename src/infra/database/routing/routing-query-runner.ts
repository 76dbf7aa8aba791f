import { HttpException } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { ObjectLiteral } from 'typeorm';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner.js';
import { currentDbScope } from '../consistency/db-context';
import type { DbNode } from '../topology/db-node';
import {
  DatabaseUnavailableError,
  isConnectionError,
  isReadOnlyNode,
  isRecoveryConflict,
  NodeConnectionError,
  PrimaryUnavailableError,
} from './database-errors';
import type { Lease, ReplicaRouter } from './replica-router';
import type { RoutingPostgresDriver } from './routing-postgres-driver';

/**
 * TypeORM's PostgreSQL query runner, with its connection taken from the ReplicaRouter instead of TypeORM's own
 * pools. Reads ('slave' runners) that fail because a node died or froze move once to another node; writes never
 * move (the statement may have run), they fail with a 503 and the node becomes suspect.
 */
export class RoutingQueryRunner extends PostgresQueryRunner {
  declare driver: RoutingPostgresDriver;
  private lease?: Lease;
  private pendingLease?: Promise<PoolClient>;
  /** The connection failed; later statements fail fast instead of queueing behind a hung one, and release destroys it. */
  private brokenBy?: Error;
  /** Set on a retry: the node the read failed on, which the retry must avoid. */
  private failedNode?: DbNode;
  private readonly onClientError = (err: Error) => (this.brokenBy ??= err);

  private get router(): ReplicaRouter {
    return this.driver.router;
  }

  override connect(): Promise<PoolClient> {
    if (this.databaseConnection) return Promise.resolve(this.databaseConnection as PoolClient);
    this.pendingLease ??= this.acquire();
    return this.pendingLease;
  }

  override async release(): Promise<void> {
    if (this.isReleased) return;
    this.isReleased = true;
    this.dropConnection();
  }

  // Promise chains rather than async/await here: this runs for every statement, and each await is a hop.
  // TypeORM's own signature: query() resolves to rows or a structured result, typed `any` by the base class.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(query: string, parameters?: unknown[] | ObjectLiteral, useStructuredResult = false): Promise<any> {
    // A connection that already failed (its server died between two statements) is not worth queueing on.
    if (this.brokenBy) return this.recover(this.brokenBy, query, parameters, useStructuredResult);
    return super.query(query, parameters, useStructuredResult).then(
      (result: unknown) => {
        this.count();
        return result;
      },
      (err: unknown) => {
        this.count();
        return this.recover(err, query, parameters, useStructuredResult);
      },
    );
  }

  private recover(
    err: unknown,
    query: string,
    parameters: unknown[] | ObjectLiteral | undefined,
    useStructuredResult: boolean,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ): Promise<any> {
    if (this.lease && (isConnectionError(err) || isReadOnlyNode(err))) {
      this.brokenBy = err instanceof Error ? err : new Error(String(err));
      this.router.reportFailure(this.lease.node, err);
    }
    const failed = err instanceof NodeConnectionError ? err.node : this.lease?.node;
    if (!this.mayRetry(err) || !failed) return Promise.reject(this.translate(err));
    // Once, on another node, within the same request: the client never sees a dead or frozen replica.
    this.failedNode = failed;
    this.router.observer.readRetried(failed);
    this.dropConnection();
    return super.query(query, parameters, useStructuredResult).then(
      (result: unknown) => {
        this.count();
        return result;
      },
      (again: unknown) => {
        this.count();
        if (this.lease && isConnectionError(again)) this.brokenBy = again as Error;
        throw this.translate(again);
      },
    );
  }

  private count(): void {
    if (this.lease) this.router.observer.query(this.lease.node, this.lease.role);
  }

  private acquire(): Promise<PoolClient> {
    const leased =
      this.mode === 'slave' ? this.router.read(this.failedNode && new Set([this.failedNode])) : this.router.primary();
    return leased.then((lease) => {
      // Released while the connection was on its way: hand it straight back rather than hold it forever.
      if (this.isReleased) {
        lease.client.release();
        throw new Error('query runner was released before its connection arrived');
      }
      this.lease = lease;
      this.databaseConnection = lease.client;
      this.driver.connectedQueryRunners.push(this);
      lease.client.on('error', this.onClientError);
      const scope = currentDbScope();
      if (scope) {
        scope.request.nodesUsed.add(lease.role === 'primary' ? 'primary' : lease.node.name);
        // Once a request wrote (or had to read the primary), its later reads stay there: they must see that state.
        if (lease.role === 'primary' && (this.mode === 'master' || scope.primaryReads))
          scope.request.primaryTouched = true;
      }
      return lease.client;
    });
  }

  private mayRetry(err: unknown): boolean {
    if (this.mode !== 'slave' || this.isTransactionActive || this.failedNode) return false;
    return err instanceof NodeConnectionError || isConnectionError(err) || isRecoveryConflict(err);
  }

  /** Back to the pool; a broken connection is destroyed, not pooled. Leaves the runner ready for another lease. */
  private dropConnection(): void {
    const lease = this.lease;
    this.lease = undefined;
    this.pendingLease = undefined;
    this.databaseConnection = undefined;
    const broken = this.brokenBy;
    this.brokenBy = undefined;
    const i = this.driver.connectedQueryRunners.indexOf(this);
    if (i !== -1) this.driver.connectedQueryRunners.splice(i, 1);
    if (!lease) return;
    lease.client.off('error', this.onClientError);
    lease.client.release(broken);
  }

  private translate(err: unknown): Error {
    if (err instanceof HttpException) return err;
    const node = err instanceof NodeConnectionError ? err.node : this.lease?.node;
    const onPrimary = this.mode === 'master' || this.lease?.role === 'primary';
    if (onPrimary && (isConnectionError(err) || isReadOnlyNode(err))) {
      this.router.observer.primaryUnavailable();
      const why = isReadOnlyNode(err) ? 'is read-only now: no longer the primary' : 'stopped answering';
      return new PrimaryUnavailableError(`${node?.name ?? 'primary'} ${why}`, err);
    }
    if (err instanceof NodeConnectionError || isConnectionError(err) || isRecoveryConflict(err)) {
      return new DatabaseUnavailableError(
        `${node?.name ?? 'a replica'} failed the read${this.failedNode ? ', and so did the retry' : ''}`,
        err,
      );
    }
    // pg and TypeORM reject with Errors; anything else is wrapped so callers always get a stack.
    return err instanceof Error ? err : new Error(String(err), { cause: err });
  }
}
