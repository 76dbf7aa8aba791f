import type { PoolClient } from 'pg';
import { currentDbScope, type DbScope } from '../consistency/db-context';
import { type DbNode, PoolWaitTimeout } from '../topology/db-node';
import { endOfWal, type Lsn, maxLsn, parseLsn } from '../topology/lsn';
import type { TopologyMonitor } from '../topology/topology-monitor';
import {
  DatabaseUnavailableError,
  isConnectionError,
  NodeConnectionError,
  PoolBusyError,
  PrimaryUnavailableError,
} from './database-errors';
import { caughtUp, furthestAhead, pickReplica, type ReadStrategy } from './replica-selection';
import type { LeaseRole, RoutingObserver } from './routing-observer';

/** The insert position, not the write or flush one: with synchronous_commit off a commit may not be written yet. */
export const CURRENT_WAL_INSERT_LSN = 'SELECT pg_current_wal_insert_lsn()::text AS lsn';

/** A pooled connection to one node, and the role it was chosen for. */
export interface Lease {
  readonly node: DbNode;
  readonly role: LeaseRole;
  readonly client: PoolClient;
}

/**
 * Decides where each query goes. Writes: the elected primary, or a 503 at once when there is none. Reads: a
 * healthy replica (round-robin or least-busy) that has replayed the session's last write; the primary when no
 * replica qualifies. GitLab's load balancer makes the same decisions.
 */
export class ReplicaRouter {
  private turn = 0;

  constructor(
    private readonly topology: TopologyMonitor,
    private readonly strategy: ReadStrategy,
    readonly observer: RoutingObserver,
  ) {}

  async primary(): Promise<Lease> {
    if (!this.topology.started) await this.topology.start();
    const node = this.topology.primary();
    if (!node) {
      this.observer.primaryUnavailable();
      throw new PrimaryUnavailableError(this.whyNoPrimary());
    }
    try {
      return { node, role: 'primary', client: await node.connect() };
    } catch (err) {
      if (err instanceof PoolWaitTimeout) throw this.poolBusy(node, err);
      this.topology.reportFailure(node, err);
      this.observer.primaryUnavailable();
      throw new PrimaryUnavailableError(`${node.name} refused or timed out a connection`, err);
    }
  }

  /**
   * A connection for a read, never to a node in `exclude` (the one a retried read just failed on). Not `async`:
   * the common case (no position to reach) goes straight to the pool, without extra promise hops per read.
   */
  read(exclude?: ReadonlySet<DbNode>): Promise<Lease> {
    if (!this.topology.started) return this.topology.start().then(() => this.read(exclude));
    const scope = currentDbScope();
    const replicas = this.topology.readableReplicas(exclude);
    if (scope && (scope.primaryReads || scope.request.primaryTouched)) return this.latestCommitted(replicas, exclude);
    if (replicas.length === 0) {
      this.observer.replicaFallback('no_healthy_replica');
      return this.primaryForRead(exclude);
    }
    if (scope && (scope.minLsn !== undefined || scope.request.hasSession))
      return this.readAtLeast(scope, replicas, exclude);
    return this.replica(pickReplica(replicas, this.strategy, this.turn++)!);
  }

  /** Read-your-writes: a replica that replayed the session's (or job's) position, else the primary. */
  private async readAtLeast(
    scope: DbScope,
    replicas: readonly DbNode[],
    exclude: ReadonlySet<DbNode> | undefined,
  ): Promise<Lease> {
    let floor: Lsn | undefined;
    try {
      floor = maxLsn(scope.minLsn, await scope.request.sessionFloor());
    } catch {
      // Without the session's position any replica might be stale for it; the primary never is.
      if (this.topology.primary()) this.observer.readYourWritesOnPrimary('lsn_unknown');
      return this.latestCommitted(replicas, exclude);
    }
    const fresh = caughtUp(replicas, floor);
    if (fresh.length > 0) return this.replica(pickReplica(fresh, this.strategy, this.turn++)!);
    if (!this.topology.primary()) return this.latestCommitted(replicas, exclude);
    return this.caughtUpReplicaOrPrimary(furthestAhead(replicas)!, floor!, exclude);
  }

  /**
   * A read that must see every acknowledged commit (readFromPrimary, a request that wrote, a cache fill after an
   * invalidation whose commit position is unknown, a session whose position is unknown): the primary. During a failover
   * (no primary elected) the most advanced replica instead of a 503: replicas receive one WAL stream, so the one
   * furthest along holds everything the others do, and under synchronous replication every acknowledged commit.
   * What it holds beyond that (a commit the primary never acknowledged) is what any reader of it sees too.
   */
  private latestCommitted(replicas: readonly DbNode[], exclude: ReadonlySet<DbNode> | undefined): Promise<Lease> {
    if (this.topology.primary() || replicas.length === 0) return this.primaryForRead(exclude);
    this.observer.readYourWritesDuringFailover();
    return this.replica(furthestAhead(replicas)!);
  }

  /** The primary's end of WAL: every transaction committed before the call is at or below it. */
  async currentPrimaryLsn(): Promise<Lsn> {
    const { node, rows } = await this.onPrimary<{ lsn: string }>(CURRENT_WAL_INSERT_LSN);
    return this.endOfWalOn(node, rows[0]!.lsn);
  }

  /** The same, from the insert position read on a connection the caller already holds to the primary. */
  endOfPrimaryWal(insertLsn: string): Lsn {
    return this.endOfWalOn(this.topology.primary(), insertLsn);
  }

  private endOfWalOn(node: DbNode | undefined, insertLsn: string): Lsn {
    const { walBlockSize = 8192, walSegmentSize = 16 * 1024 * 1024 } = node?.observation ?? {};
    return endOfWal(parseLsn(insertLsn), walBlockSize, walSegmentSize);
  }

  /** Readiness: one round trip to the current primary. */
  async pingPrimary(): Promise<{ node: string; timeline: number | null }> {
    const { node } = await this.onPrimary('SELECT 1');
    return { node: node.name, timeline: node.observation?.timeline ?? null };
  }

  /** Passive health check: a statement failed on the node because of the node. */
  reportFailure(node: DbNode, err: unknown): void {
    this.topology.reportFailure(node, err);
  }

  private async onPrimary<T>(sql: string): Promise<{ node: DbNode; rows: T[] }> {
    const lease = await this.primary();
    try {
      const { rows } = await lease.client.query(sql);
      lease.client.release();
      return { node: lease.node, rows: rows as T[] };
    } catch (err) {
      lease.client.release(err as Error);
      if (isConnectionError(err)) this.topology.reportFailure(lease.node, err);
      throw isConnectionError(err) ? new PrimaryUnavailableError(`${lease.node.name} failed a query`, err) : err;
    }
  }

  /**
   * The primary, for a read. A primary that fails the connection has just been reported, so it is no longer
   * elected: the read then follows latestCommitted's failover rule at once (the most advanced replica), instead
   * of answering 503 until the next probe notices what this read already found out. A read with a known floor
   * (a session's or a cache fill's position) takes only a replica that has replayed it: an older row here could
   * be cached as the new one.
   */
  private async primaryForRead(exclude?: ReadonlySet<DbNode>, floor?: Lsn): Promise<Lease> {
    try {
      return await this.primary();
    } catch (err) {
      if (!(err instanceof PrimaryUnavailableError)) throw err;
      const readable = this.topology.readableReplicas(exclude);
      const replicas = floor === undefined ? readable : caughtUp(readable, floor);
      if (replicas.length === 0)
        throw new DatabaseUnavailableError('no usable replica, and the primary is unavailable', err);
      this.observer.readYourWritesDuringFailover();
      return this.replica(furthestAhead(replicas)!);
    }
  }

  private poolBusy(node: DbNode, err: PoolWaitTimeout): PoolBusyError {
    this.observer.poolWaitTimedOut(node);
    return new PoolBusyError(node, err.waitedMs, err);
  }

  private replica(node: DbNode): Promise<Lease> {
    return node.connect().then(
      (client) => ({ node, role: 'replica' as const, client }),
      (err: unknown) => {
        if (err instanceof PoolWaitTimeout) throw this.poolBusy(node, err);
        this.topology.reportFailure(node, err);
        throw new NodeConnectionError(node, err);
      },
    );
  }

  /**
   * No replica is known to have replayed the session's write, but the monitor's view is up to one interval old:
   * ask the closest replica directly (GitLab does the same) before putting the read on the primary.
   */
  private async caughtUpReplicaOrPrimary(
    node: DbNode,
    floor: Lsn,
    exclude: ReadonlySet<DbNode> | undefined,
  ): Promise<Lease> {
    let lease: Lease | undefined;
    try {
      lease = await this.replica(node);
      const { rows } = await lease.client.query<{ lsn: string | null }>('SELECT pg_last_wal_replay_lsn()::text AS lsn');
      const replayed = rows[0]?.lsn ? parseLsn(rows[0].lsn) : 0n;
      this.topology.noteReplayed(node, replayed);
      if (replayed >= floor) {
        this.observer.replicaCaughtUpCheck('caught_up');
        return lease;
      }
      lease.client.release();
      this.observer.replicaCaughtUpCheck('behind');
    } catch (err) {
      // A failed connect was reported already; a failed check releases (destroys) the connection first.
      if (!(err instanceof NodeConnectionError)) {
        lease?.client.release(err as Error);
        if (!isConnectionError(err)) throw err;
        this.topology.reportFailure(node, err);
      }
    }
    this.observer.readYourWritesOnPrimary('not_caught_up');
    return this.primaryForRead(exclude, floor);
  }

  private whyNoPrimary(): string {
    const elected = this.topology.all().find((n) => n.role === 'primary' && n.reachable && !n.fenced);
    if (elected?.failedAt !== undefined) return `${elected.name} failed (${elected.lastError}); re-checking`;
    const fenced = this.topology.all().filter((n) => n.fenced);
    if (fenced.length)
      return `only ${fenced.map((n) => n.name).join(', ')} claim the role, on a timeline older than the last primary's`;
    return 'no reachable node is a primary; failover in progress?';
  }
}
