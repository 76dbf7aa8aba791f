/**
 * Worker processes that follow the queue, decided the way Kubernetes decides them, so that what the stack shows is
 * what KEDA does in production (docs/deploy.md has the matching ScaledObject):
 * - the signal is the queue's backlog (jobs waiting plus jobs being worked on), read from the `queue_jobs` gauges
 *   every worker and API exports for KEDA;
 * - KEDA hands that number to an HPA as an AverageValue target, and the HPA's rule is
 *   `desired = ceil(backlog / target per worker)`, left alone within a 10 % tolerance, clamped to MIN..MAX;
 * - scale-down takes the highest recommendation of the last `scaleDownWindowMs` (the HPA's
 *   `behavior.scaleDown.stabilizationWindowSeconds`), so a momentarily empty queue does not stop workers;
 * - scale-up acts on the first reading, every second. The HPA is slower: it decides every 15 s, and adds at most
 *   4 pods or doubles them per 15 s (its default scale-up policy); the rule is the same, the pace is not;
 * - a worker is removed by SIGTERM, and it drains (finishes its jobs, takes no new one) before it exits.
 */

export interface WorkerBounds {
  readonly min: number;
  readonly max: number;
}

export interface AutoscalePolicy {
  /** Backlog one worker is meant to carry: the ScaledObject's threshold. */
  readonly targetPerWorker: number;
  /** How long a lower recommendation must hold before workers are removed. */
  readonly scaleDownWindowMs: number;
  readonly intervalMs: number;
}

/** The most worker processes the stack starts; each is a Node process with its own pool of connections. */
export const MAX_AUTOSCALED_WORKERS = 16;
// The HPA's default --horizontal-pod-autoscaler-tolerance.
const TOLERANCE = 0.1;

/** `MIN..MAX`, e.g. `1..4`; MIN may be 0 (the APIs still report the backlog), MAX at least 1 and at least MIN. */
export function parseWorkerBounds(spec: string, flag = '--autoscale-workers'): WorkerBounds {
  const m = /^(\d{1,3})\.\.(\d{1,3})$/.exec(spec.trim());
  if (!m) throw new Error(`${flag} takes MIN..MAX, two whole numbers such as 1..4 (got "${spec}")`);
  const [min, max] = [Number(m[1]), Number(m[2])];
  if (max < 1) throw new Error(`${flag}: MAX must be at least 1 (got ${spec})`);
  if (min > max) throw new Error(`${flag}: MIN must not exceed MAX (got ${spec})`);
  if (max > MAX_AUTOSCALED_WORKERS)
    throw new Error(`${flag}: MAX must be at most ${MAX_AUTOSCALED_WORKERS} (got ${spec})`);
  return { min, max };
}

/** The HPA's rule for an AverageValue metric: ceil(total / target), unchanged within the tolerance, clamped. */
export function desiredWorkers(backlog: number, current: number, target: number, bounds: WorkerBounds): number {
  const clamp = (n: number) => Math.min(bounds.max, Math.max(bounds.min, n));
  if (current > 0 && Math.abs(backlog / (current * target) - 1) <= TOLERANCE) return clamp(current);
  return clamp(Math.ceil(backlog / target));
}

/** queue_jobs{queue="<queue>",state=...} from Prometheus text: waiting (and prioritized) plus active; undefined if absent. */
export function backlogFromMetrics(text: string, queue = 'render'): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith('queue_jobs{') || !line.includes(`queue="${queue}"`)) continue;
    if (!/state="(waiting|prioritized|active)"/.test(line)) continue;
    total = (total ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** The backlog as one process's /metrics reports it; undefined if it does not answer within a second. */
export async function readBacklogAt(address: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${address}/metrics`, { signal: AbortSignal.timeout(1000) });
    return res.ok ? backlogFromMetrics(await res.text()) : undefined;
  } catch {
    return undefined;
  }
}

export interface AutoscalerDeps {
  /** The queue's backlog now, undefined when no process could say. */
  readBacklog(): Promise<number | undefined>;
  /** Worker processes running now. */
  current(): number;
  /** Starts or drains workers until `n` run; resolves when done. */
  scaleTo(n: number, why: string): Promise<void>;
  log(line: string): void;
}

export class WorkerAutoscaler {
  private readonly recommendations: Array<{ at: number; n: number }> = [];
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopped = false;
  /** The tick under way (its metrics read may take a second). */
  private ticking?: Promise<void>;
  /** The scale-up or drain under way: ticks go on meanwhile (their recommendations count), but act only after it. */
  private scaling?: Promise<void>;
  /** The last decision, for `status` and the drill: what it saw and what it wanted. */
  last: { backlog: number | undefined; desired: number; at: number } | undefined;

  constructor(
    private readonly deps: AutoscalerDeps,
    readonly bounds: WorkerBounds,
    readonly policy: AutoscalePolicy,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  /** No tick after this one, and none in flight starts a change (the stack is going down). */
  stop(): void {
    this.running = false;
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Resolves once no tick and no change is under way. */
  async idle(): Promise<void> {
    await this.ticking;
    await this.scaling;
  }

  /**
   * One reading and recommendation; exposed for tests. It starts a change but does not wait for it: a worker takes
   * seconds to start or drain, and the recommendations of those seconds must still enter the scale-down window.
   * Never throws: a failed read or scale is logged and decided again on the next tick.
   */
  async tick(now = Date.now()): Promise<void> {
    const backlog = await this.deps.readBacklog().catch(() => undefined);
    if (this.stopped) return;
    const current = this.deps.current();
    // No reading: hold (the HPA does the same when its metric is missing), only keep within the bounds.
    const raw =
      backlog === undefined
        ? Math.min(this.bounds.max, Math.max(this.bounds.min, current))
        : desiredWorkers(backlog, current, this.policy.targetPerWorker, this.bounds);
    this.recommendations.push({ at: now, n: raw });
    while (this.recommendations.length && this.recommendations[0]!.at < now - this.policy.scaleDownWindowMs)
      this.recommendations.shift();
    const stabilized = Math.max(...this.recommendations.map((r) => r.n));
    const desired = raw > current ? raw : Math.min(current, stabilized);
    this.last = { backlog, desired, at: now };
    if (this.scaling || desired === current) return;
    const why =
      desired > current
        ? `backlog ${backlog} > ${current} x ${this.policy.targetPerWorker} per worker`
        : `backlog ${backlog ?? '?'} or less for ${this.policy.scaleDownWindowMs / 1000} s`;
    this.scaling = this.deps
      .scaleTo(desired, why)
      .catch((err: Error) => this.deps.log(`autoscale to ${desired} worker(s) failed: ${err.message}`))
      .finally(() => (this.scaling = undefined));
  }

  private schedule(): void {
    if (!this.running) return;
    // A timeout chain, not an interval: a slow metrics read delays the next tick instead of overlapping it.
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => (this.ticking = undefined));
      void this.ticking.then(() => this.schedule());
    }, this.policy.intervalMs);
    this.timer.unref();
  }
}
