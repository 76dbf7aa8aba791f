import type { Lsn } from '../topology/lsn';

export type ReadStrategy = 'round-robin' | 'least-busy';

/** What the router knows about a replica that may take a read. */
export interface ReplicaCandidate {
  readonly name: string;
  /** The highest replay position seen (monitor probes and live checks); it only grows. */
  readonly replayLsn: Lsn;
  /** Connections in use plus requests waiting for one, in this process's pool for the node. */
  readonly busy: number;
}

/**
 * Round-robin spreads evenly; least-busy sends the next read to the replica with the fewest outstanding
 * queries in this process (ties rotate), so a replica that slows down gets fewer reads by itself.
 */
export function pickReplica<T extends ReplicaCandidate>(
  candidates: readonly T[],
  strategy: ReadStrategy,
  turn: number,
): T | undefined {
  if (candidates.length === 0) return undefined;
  if (strategy === 'round-robin') return candidates[turn % candidates.length];
  // Two passes, no allocation: this runs for every read.
  let least = Infinity;
  let ties = 0;
  for (const c of candidates) {
    if (c.busy < least) {
      least = c.busy;
      ties = 1;
    } else if (c.busy === least) ties++;
  }
  let skip = turn % ties;
  for (const c of candidates) if (c.busy === least && skip-- === 0) return c;
  return undefined;
}

/** GitLab's rule: a session may read from a replica only once it has replayed past the session's last write. */
export function caughtUp<T extends ReplicaCandidate>(candidates: readonly T[], minLsn: Lsn | undefined): readonly T[] {
  return minLsn === undefined ? candidates : candidates.filter((c) => c.replayLsn >= minLsn);
}

/** The replica worth asking directly when none is known to be caught up: it is the closest. */
export function furthestAhead<T extends ReplicaCandidate>(candidates: readonly T[]): T | undefined {
  return candidates.reduce<T | undefined>((best, c) => (!best || c.replayLsn > best.replayLsn ? c : best), undefined);
}
