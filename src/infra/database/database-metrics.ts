import { Counter, Gauge, type Registry } from 'prom-client';
import type { LeaseRole, RoutingObserver } from './routing/routing-observer';
import type { DbNode } from './topology/db-node';
import type { TopologyMonitor } from './topology/topology-monitor';

/** The db_* Prometheus series: where queries went, why reads left the replicas, and how far behind each replica is. */
export class DatabaseMetrics implements RoutingObserver {
  private readonly retries: Counter<'node'>;
  private readonly fallbacks: Counter<'reason'>;
  private readonly rywPrimaryReads: Counter<'reason'>;
  private readonly rywFailoverReads: Counter;
  private readonly caughtUpChecks: Counter<'result'>;
  private readonly unavailable: Counter;
  private readonly poolWaits: Counter<'node'>;
  private readonly notRecorded: Counter;
  // Plain numbers per node, read at scrape time: prom-client hashes the labels on every inc(), once per statement here.
  private readonly queryCounts = new Map<DbNode, { primary: number; replica: number }>();

  constructor(registry: Registry, topology: TopologyMonitor) {
    const registers = [registry];
    const counts = this.queryCounts;
    new Counter({
      name: 'db_queries_total',
      help: 'Statements sent, by node and the role it served in',
      labelNames: ['node', 'role'],
      registers,
      collect() {
        this.reset();
        for (const [node, byRole] of counts) {
          for (const role of ['primary', 'replica'] as const)
            if (byRole[role] > 0) this.inc({ node: node.name, role }, byRole[role]);
        }
      },
    });
    this.retries = new Counter({
      name: 'db_read_retries_total',
      help: 'Reads moved to another node after a connection error or timeout, by the node that failed',
      labelNames: ['node'],
      registers,
    });
    this.fallbacks = new Counter({
      name: 'db_replica_fallbacks_total',
      help: 'Reads sent to the primary because no replica was usable',
      labelNames: ['reason'],
      registers,
    });
    this.rywPrimaryReads = new Counter({
      name: 'db_read_your_writes_primary_reads_total',
      help: "A session's reads sent to the primary because no usable replica had replayed its last write (or its position was unknown)",
      labelNames: ['reason'],
      registers,
    });
    this.rywFailoverReads = new Counter({
      name: 'db_read_your_writes_failover_reads_total',
      help: 'Reads that must see the latest commits (sessions, jobs, readFromPrimary, cache fills after a write) served by the most advanced replica while no primary was elected',
      registers,
    });
    this.caughtUpChecks = new Counter({
      name: 'db_replica_caught_up_checks_total',
      help: "Replicas asked directly whether they had replayed a session's last write",
      labelNames: ['result'],
      registers,
    });
    this.unavailable = new Counter({
      name: 'db_primary_unavailable_total',
      help: 'Statements refused with 503 because no primary was usable',
      registers,
    });
    this.poolWaits = new Counter({
      name: 'db_pool_wait_timeouts_total',
      help: "Requests refused with 503 because every pooled connection to the node stayed busy for DB_CONNECT_TIMEOUT_MS (this instance's back-pressure; the node stays in rotation)",
      labelNames: ['node'],
      registers,
    });
    this.notRecorded = new Counter({
      name: 'db_session_lsn_record_failures_total',
      help: 'Session writes whose WAL position could not be stored for read-your-writes',
      registers,
    });
    const primaryChanges = new Counter({
      name: 'db_primary_changes_total',
      help: 'Changes of the elected primary (failovers, and losing it)',
      registers,
    });
    topology.subscribe({ primaryChanged: () => primaryChanges.inc() });

    const replicas = () => topology.all().filter((n) => n.lag !== undefined);
    new Gauge({
      name: 'db_replica_lag_seconds',
      help: 'Replication lag, an upper bound: the replica misses nothing older than this',
      labelNames: ['node'],
      registers,
      collect() {
        this.reset();
        for (const n of replicas()) this.set({ node: n.name }, n.lag!.seconds);
      },
    });
    new Gauge({
      name: 'db_replica_lag_bytes',
      help: "WAL bytes between the primary's last seen position and the replica's replay position",
      labelNames: ['node'],
      registers,
      collect() {
        this.reset();
        for (const n of replicas()) this.set({ node: n.name }, n.lag!.bytes);
      },
    });
    new Gauge({
      name: 'db_node_up',
      help: '1 when the last probe of the node succeeded; role is what the node says it is, state what routing makes of it',
      labelNames: ['node', 'role', 'state'],
      registers,
      collect() {
        this.reset();
        for (const n of topology.all()) this.set({ node: n.name, role: n.role, state: n.state }, n.reachable ? 1 : 0);
      },
    });
  }

  query(node: DbNode, role: LeaseRole): void {
    let byRole = this.queryCounts.get(node);
    if (!byRole) this.queryCounts.set(node, (byRole = { primary: 0, replica: 0 }));
    byRole[role]++;
  }

  readRetried(node: DbNode): void {
    this.retries.inc({ node: node.name });
  }

  replicaFallback(reason: 'no_healthy_replica'): void {
    this.fallbacks.inc({ reason });
  }

  readYourWritesOnPrimary(reason: 'not_caught_up' | 'lsn_unknown'): void {
    this.rywPrimaryReads.inc({ reason });
  }

  readYourWritesDuringFailover(): void {
    this.rywFailoverReads.inc();
  }

  replicaCaughtUpCheck(result: 'caught_up' | 'behind'): void {
    this.caughtUpChecks.inc({ result });
  }

  primaryUnavailable(): void {
    this.unavailable.inc();
  }

  poolWaitTimedOut(node: DbNode): void {
    this.poolWaits.inc({ node: node.name });
  }

  sessionLsnNotRecorded(): void {
    this.notRecorded.inc();
  }
}
