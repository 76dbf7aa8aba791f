export interface ConcurrencyBounds {
  readonly min: number;
  readonly max: number;
}

/**
 * One slot per waiting job, within bounds. Up at once (a backlog costs latency now), down by half the gap per
 * tick (a bursty queue should not make concurrency flap).
 */
export function nextConcurrency(current: number, backlog: number, { min, max }: ConcurrencyBounds): number {
  const wanted = Math.min(max, Math.max(min, backlog));
  if (wanted >= current) return wanted;
  return Math.max(wanted, current - Math.ceil((current - wanted) / 2));
}
