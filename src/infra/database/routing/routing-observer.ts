import type { DbNode } from '../topology/db-node';

export type LeaseRole = 'primary' | 'replica';

/** What routing decisions the metrics count; the CLI and the benchmark pass NO_OBSERVER. */
export interface RoutingObserver {
  query(node: DbNode, role: LeaseRole): void;
  /** A read failed on `node` (connection error or timeout) and moved to another node. */
  readRetried(node: DbNode): void;
  /** A read went to the primary because no replica was usable. */
  replicaFallback(reason: 'no_healthy_replica'): void;
  /** A session's read went to the primary because no usable replica had replayed its last write. */
  readYourWritesOnPrimary(reason: 'not_caught_up' | 'lsn_unknown'): void;
  /**
   * No primary was elected, so a read that must see the latest commits (a session's, a job's, readFromPrimary, a
   * cache fill after a write) went to the most advanced replica without proof that it replayed the position asked
   * for (a recorded position overshoots the commit, and no new WAL arrives to pass it).
   */
  readYourWritesDuringFailover(): void;
  /** A replica was asked directly whether it had replayed a session's write yet. */
  replicaCaughtUpCheck(result: 'caught_up' | 'behind'): void;
  primaryUnavailable(): void;
  /** Every pooled connection to `node` stayed busy for the whole wait: back-pressure, the node stays in rotation. */
  poolWaitTimedOut(node: DbNode): void;
  /** A session wrote, but its position could not be stored (Redis down): its next reads may be stale. */
  sessionLsnNotRecorded(): void;
}

export const NO_OBSERVER: RoutingObserver = {
  query: () => undefined,
  readRetried: () => undefined,
  replicaFallback: () => undefined,
  readYourWritesOnPrimary: () => undefined,
  readYourWritesDuringFailover: () => undefined,
  replicaCaughtUpCheck: () => undefined,
  primaryUnavailable: () => undefined,
  poolWaitTimedOut: () => undefined,
  sessionLsnNotRecorded: () => undefined,
};
