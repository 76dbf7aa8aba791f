import type { PoolClient } from 'pg';
import { currentDbScope, type DbScope } from '../consistency/db-context';
import type { DbNode } from '../topology/db-node';
import { endOfWal, type Lsn, maxLsn, parseLsn } from '../topology/lsn';
import type { TopologyMonitor } from '../topology/topology-monitor';
import { DatabaseUnavailableError, isConnectionError, NodeConnectionError, PrimaryUnavailableError } from './database-errors';
import { caughtUp, furthestAhead, pickReplica, type ReadStrategy } from './replica-selection';
import type { LeaseRole, RoutingObserver } from './routing-observer';

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
      return { node, role: 'primary', client: await node.pool.connect() };
    } catch (err) {
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
    if (scope && (scope.primaryReads || scope.request.primaryTouched)) return this.primaryForRead();
    const replicas = this.topology.readableReplicas(exclude);
    if (replicas.length === 0) {
      this.observer.replicaFallback('no_healthy_replica');
      return this.primaryForRead();
    }
    if (scope && (scope.minLsn !== undefined || scope.request.hasSession)) return this.readAtLeast(scope, replicas);
    return this.replica(pickReplica(replicas, this.strategy, this.turn++)!);
  }

  /** Read-your-writes: a replica that replayed the session's (or job's) position, else the primary. */
  private async readAtLeast(scope: DbScope, replicas: readonly DbNode[]): Promise<Lease> {
    let floor: Lsn | undefined;
    try {
      floor = maxLsn(scope.minLsn, await scope.request.sessionFloor());
    } catch {
      // Without the session's position any replica might be stale for it; the primary never is.
      this.observer.readYourWritesOnPrimary('lsn_unknown');
      return this.primaryForRead();
    }
    const fresh = caughtUp(replicas, floor);
    if (fresh.length > 0) return this.replica(pickReplica(fresh, this.strategy, this.turn++)!);
    return this.caughtUpReplicaOrPrimary(furthestAhead(replicas)!, floor!);
  }

  /** The primary's end of WAL: every transaction committed before the call is at or below it. */
  async currentPrimaryLsn(): Promise<Lsn> {
    // The insert position, not the write or flush one: with synchronous_commit off a commit may not be written yet.
    const { node, rows } = await this.onPrimary<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    const { walBlockSize = 8192, walSegmentSize = 16 * 1024 * 1024 } = node.observation ?? {};
    return endOfWal(parseLsn(rows[0]!.lsn), walBlockSize, walSegmentSize);
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

  private async primaryForRead(): Promise<Lease> {
    try {
      return await this.primary();
    } catch (err) {
      if (!(err instanceof PrimaryUnavailableError)) throw err;
      throw new DatabaseUnavailableError('no usable replica, and the primary is unavailable', err);
    }
  }

  private replica(node: DbNode): Promise<Lease> {
    return node.pool.connect().then(
      (client) => ({ node, role: 'replica' as const, client }),
      (err: unknown) => {
        this.topology.reportFailure(node, err);
        throw new NodeConnectionError(node, err);
      },
    );
  }

  /**
   * No replica is known to have replayed the session's write, but the monitor's view is up to one interval old:
   * ask the closest replica directly (GitLab does the same) before putting the read on the primary.
   */
  private async caughtUpReplicaOrPrimary(node: DbNode, floor: Lsn): Promise<Lease> {
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
    return this.primaryForRead();
  }

  private whyNoPrimary(): string {
    const elected = this.topology.all().find((n) => n.role === 'primary' && n.reachable && !n.fenced);
    if (elected?.failedAt !== undefined) return `${elected.name} failed (${elected.lastError}); re-checking`;
    const fenced = this.topology.all().filter((n) => n.fenced);
    if (fenced.length) return `only ${fenced.map((n) => n.name).join(', ')} claim the role, on a timeline older than the last primary's`;
    return 'no reachable node is a primary; failover in progress?';
  }
}
