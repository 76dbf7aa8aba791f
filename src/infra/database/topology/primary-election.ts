/** A reachable node that is not in recovery, so it believes it is the primary. */
export interface PrimaryClaim {
  readonly name: string;
  /** The timeline it writes WAL on; every promotion starts a higher one. */
  readonly timeline: number;
}

export interface Election {
  readonly primary: string | undefined;
  /** Claimants that lost: never written to (nor read from) while they claim to be primary. */
  readonly fenced: readonly string[];
  /** Never lowered: a node on an older timeline is a pre-failover primary, even when it is the only claimant. */
  readonly timelineFloor: number;
}

/**
 * Picks the primary among the nodes that claim the role. The highest timeline wins, so an old primary that
 * comes back after a promotion loses; ties (two replicas promoted from the same timeline) go to the smallest
 * name, so every API instance makes the same choice without talking to the others.
 */
export function electPrimary(claims: readonly PrimaryClaim[], timelineFloor: number): Election {
  const eligible = claims.filter((c) => c.timeline >= timelineFloor);
  const winner = eligible.reduce<PrimaryClaim | undefined>(
    (best, c) =>
      !best || c.timeline > best.timeline || (c.timeline === best.timeline && c.name < best.name) ? c : best,
    undefined,
  );
  return {
    primary: winner?.name,
    fenced: claims.filter((c) => c !== winner).map((c) => c.name),
    timelineFloor: Math.max(timelineFloor, winner?.timeline ?? 0),
  };
}
