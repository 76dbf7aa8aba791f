/**
 * The capacity model (docs/capacity.md): from the per-request CPU that `npm run loadtest` measured for each kind
 * of process, what a number of daily active users needs. Pure functions; tools/capacity/capacity.ts reads the
 * measurements and prints.
 */

export interface Step {
  readonly connections: number;
  readonly achieved: number;
  readonly requests: number;
  readonly passed: boolean;
  readonly cpuUsPerRequest: Readonly<Record<string, number>>;
  readonly redisCommandsPerRequest: number;
  readonly cache: { readonly hit: number; readonly miss: number; readonly bypass: number };
}

export interface Measurements {
  readonly measuredAt: string;
  readonly machine: { readonly cpus: number; readonly node: string };
  readonly mix: {
    readonly articleRead: number;
    readonly listPage: number;
    readonly signedInRead: number;
    readonly write: number;
  };
  readonly p99BoundMs: number;
  readonly saturation: { readonly connections: number; readonly achieved: number } | null;
  readonly steps: readonly Step[];
}

/** A process kind's CPU as a line: a fixed cost per second (heartbeats, probes, replication) plus a cost per request. */
export interface CpuLine {
  readonly fixedUsPerSecond: number;
  readonly usPerRequest: number;
}

/**
 * Least squares over the steps that were served in full: CPU µs per second against requests per second. The
 * slope is what one more request costs; the intercept is the CPU that did not grow with the requests in the
 * measured range: background work (heartbeats, probes, replication) and the per-wakeup cost that a busier
 * process spreads over more requests. Dividing each step's CPU by its requests instead would make a request
 * look dearer the quieter the machine is.
 */
export function fitCpuLines(steps: readonly Step[]): Map<string, CpuLine> {
  const served = steps.filter((s) => s.passed);
  if (served.length < 2) throw new Error('the model needs at least two load steps served in full');
  const kinds = new Set(served.flatMap((s) => Object.keys(s.cpuUsPerRequest)));
  const lines = new Map<string, CpuLine>();
  for (const kind of kinds) {
    const points = served.map((s) => ({ x: s.achieved, y: (s.cpuUsPerRequest[kind] ?? 0) * s.achieved }));
    const n = points.length;
    const mx = points.reduce((a, p) => a + p.x, 0) / n;
    const my = points.reduce((a, p) => a + p.y, 0) / n;
    const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
    const slope = sxx === 0 ? 0 : points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx;
    lines.set(kind, { usPerRequest: Math.max(0, slope), fixedUsPerSecond: Math.max(0, my - slope * mx) });
  }
  return lines;
}

/**
 * The rate at which the machine's cores are all busy, everything on one box as `npm run stack` runs it: the
 * model's prediction of the saturation point the load test measures. The load generator shares the cores, so
 * it counts as a kind like the others.
 */
export function predictedSaturation(lines: ReadonlyMap<string, CpuLine>, cores: number): number {
  let fixed = 0;
  let perRequest = 0;
  for (const line of lines.values()) {
    fixed += line.fixedUsPerSecond;
    perRequest += line.usPerRequest;
  }
  return (cores * 1_000_000 - fixed) / perRequest;
}

export interface Assumptions {
  readonly dau: number;
  /** Requests a daily active user sends in a day (page views and API calls, through the gateway). */
  readonly requestsPerUserPerDay: number;
  /** The busiest hour's rate over the day's average. */
  readonly peakToAverage: number;
  /** The CPU a tier may use at peak: the rest is headroom for a failed instance's share and for bursts. */
  readonly targetUtilization: number;
  /** Cores of one database or Redis machine (a node of the tier). */
  readonly coresPerDatabaseNode: number;
  /** Bytes of one session in Redis, and the users with a live session per daily active user (those active within
   * SESSION_TTL_SECONDS, 7 days: the weekly over the daily actives). */
  readonly sessionBytes: number;
  readonly liveSessionsPerDau: number;
  /** Articles whose JSON is in the cache at once, and the bytes of one entry. */
  readonly hotArticles: number;
  readonly articleBytes: number;
}

export const DEFAULT_ASSUMPTIONS: Omit<Assumptions, 'dau'> = {
  requestsPerUserPerDay: 50,
  peakToAverage: 3,
  targetUtilization: 0.6,
  coresPerDatabaseNode: 8,
  sessionBytes: 600,
  liveSessionsPerDau: 2.5,
  hotArticles: 200_000,
  articleBytes: 3_000,
};

export interface Plan {
  readonly peakRequestsPerSecond: number;
  readonly averageRequestsPerSecond: number;
  readonly tiers: ReadonlyArray<{
    readonly tier: string;
    readonly cores: number;
    readonly instances: number;
    readonly note: string;
  }>;
  readonly redisOpsPerSecond: number;
  readonly redisMemoryGiB: number;
  readonly firstToSaturate: string;
}

/** Node is one thread per process: an API, gateway or worker process uses one core at most. */
const NODE_PROCESS_CORES = 1;
/** Redis executes commands on one thread: one node's ceiling is one core, whatever the machine has. */
const REDIS_CORES = 1;

/**
 * `usPerRequest`: each kind's CPU per request as measured with its processes busy (the load test's busiest step
 * served in full, where the APIs ran at about half a core each: near the target utilization a fleet is sized for).
 */
export function plan(usPerRequest: ReadonlyMap<string, number>, redisCommandsPerRequest: number, a: Assumptions): Plan {
  const average = (a.dau * a.requestsPerUserPerDay) / 86_400;
  const peak = average * a.peakToAverage;
  const cores = (kind: string) => (peak * (usPerRequest.get(kind) ?? 0)) / 1_000_000 / a.targetUtilization;
  const nodes = (c: number, perNode: number) => Math.max(1, Math.ceil(c / perNode));
  const api = cores('api');
  const gateway = cores('gateway');
  const worker = cores('worker');
  const primary = cores('postgres primary');
  const replicas = cores('postgres replicas');
  const redis = cores('redis');
  const tiers = [
    {
      tier: 'gateway',
      cores: gateway,
      instances: nodes(gateway, NODE_PROCESS_CORES) + 1,
      note: 'Node processes, +1 for a failure',
    },
    {
      tier: 'API',
      cores: api,
      instances: nodes(api, NODE_PROCESS_CORES) + 1,
      note: 'Node processes, +1 for a failure',
    },
    { tier: 'worker', cores: worker, instances: nodes(worker, NODE_PROCESS_CORES), note: 'scaled on the backlog' },
    {
      tier: 'PostgreSQL primary',
      cores: primary,
      instances: 1,
      note:
        primary > a.coresPerDatabaseNode
          ? `needs ${primary.toFixed(1)} cores: over one node, shard writes`
          : `1 of ${a.coresPerDatabaseNode} cores`,
    },
    {
      tier: 'PostgreSQL replicas',
      cores: replicas,
      instances: nodes(replicas, a.coresPerDatabaseNode) + 1,
      note: `${a.coresPerDatabaseNode}-core nodes, +1 for a failure`,
    },
    {
      tier: 'Redis master',
      cores: redis,
      instances: 1,
      note:
        redis > REDIS_CORES
          ? 'over one thread: Redis Cluster (shard by key)'
          : 'one thread, + 2 replicas under Sentinel',
    },
  ];
  // The first tier to hit a ceiling it cannot scale out of: Redis's one thread, then the primary's one node.
  const ceilings = [
    { tier: 'Redis master (one thread)', share: redis / REDIS_CORES },
    { tier: 'PostgreSQL primary (one node)', share: primary / a.coresPerDatabaseNode },
  ].sort((x, y) => y.share - x.share);
  const memory = a.dau * a.liveSessionsPerDau * a.sessionBytes + a.hotArticles * a.articleBytes;
  return {
    peakRequestsPerSecond: peak,
    averageRequestsPerSecond: average,
    tiers,
    redisOpsPerSecond: peak * redisCommandsPerRequest,
    redisMemoryGiB: memory / 2 ** 30,
    firstToSaturate: ceilings[0]!.tier,
  };
}
