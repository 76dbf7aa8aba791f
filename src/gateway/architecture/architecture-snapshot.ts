import { sumOf, type Sample } from './prometheus-text';
import type { CheckDetail, TargetReading } from './target-scraper';

export type Health = 'up' | 'degraded' | 'down' | 'unknown';

interface Box {
  /** Stable key for the page (an origin URL or a node name). */
  readonly id: string;
  readonly name: string;
  readonly health: Health;
  /** Why it has that health, in a few words ("connection refused", "lagging 2.1 s"). */
  readonly detail: string;
}

export interface GatewayBox extends Box {
  readonly rps: number | null;
  readonly inFlight: number;
  readonly upstreams: { readonly available: number; readonly total: number };
  readonly edgeCache: {
    readonly enabled: boolean;
    readonly hitRatio: number | null;
    /** The same for page loads (Accept: text/html) alone. */
    readonly pageHitRatio: number | null;
    readonly entries: number;
    readonly bytes: number;
  };
  readonly streams: number;
}

export interface ApiBox extends Box {
  readonly url: string;
  /** The gateway's own verdict: up, down, unknown, draining or ejected. */
  readonly rotation: string;
  readonly readiness: string;
  /** Client requests per second the instance reports (its probes and scrapes left out). */
  readonly rps: number | null;
  /** Tries per second the gateway sent it. */
  readonly proxiedRps: number | null;
  readonly inFlight: number;
  readonly cacheHitRatio: number | null;
}

export interface DatabaseBox extends Box {
  readonly role: string;
  readonly state: string;
  readonly lagSeconds: number | null;
  readonly lagBytes: number | null;
  readonly timeline: number | null;
  /** How many API instances reported on this node in this round. */
  readonly reportedBy: number;
}

export interface QueueBox extends Box {
  readonly waiting: number | null;
  readonly active: number | null;
  readonly delayed: number | null;
  readonly failed: number | null;
  readonly completed: number | null;
  readonly outboxPending: number | null;
  /** Worker processes up: with autoscaling, this follows the backlog. */
  readonly workers: number;
}

export interface WorkerBox extends Box {
  readonly url: string;
  readonly active: number | null;
  readonly concurrency: number | null;
  readonly jobsPerSecond: number | null;
}

/** One `snapshot` event of the architecture stream. */
export interface ArchitectureSnapshot {
  readonly v: 1;
  readonly seq: number;
  readonly at: string;
  readonly intervalMs: number;
  readonly healthChecks: { readonly intervalMs: number; readonly rise: number; readonly fall: number };
  readonly gateway: GatewayBox;
  readonly apis: readonly ApiBox[];
  readonly databases: readonly DatabaseBox[];
  readonly redis: Box;
  readonly queue: QueueBox;
  readonly workers: readonly WorkerBox[];
}

export interface ApiFacts {
  readonly url: string;
  readonly name?: string;
  readonly rotation: string;
  readonly lastCheckDetail?: string;
  readonly inFlight: number;
  readonly reading?: TargetReading;
  readonly rps?: number;
  readonly proxiedRps?: number;
  readonly cacheHitRatio?: number;
}

export interface WorkerFacts {
  readonly url: string;
  readonly name?: string;
  readonly reading?: TargetReading;
  readonly jobsPerSecond?: number;
}

const nullable = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : v);

/** up when all agree, down when all see it down, degraded when they disagree; unknown reports do not vote. */
export function combineHealth(healths: readonly Health[]): Health {
  const known = healths.filter((h) => h !== 'unknown');
  if (known.length === 0) return 'unknown';
  return known.every((h) => h === known[0]) ? known[0]! : 'degraded';
}

export function apiBox(f: ApiFacts): ApiBox {
  const r = f.reading;
  const readiness = r === undefined ? 'not read yet' : (r.readiness?.status ?? r.error ?? 'unreachable');
  const base = {
    id: f.url,
    name: f.name ?? f.url.replace(/^http:\/\//, ''),
    url: f.url,
    rotation: f.rotation,
    readiness,
    inFlight: f.inFlight,
  };
  const rates = { rps: nullable(f.rps), proxiedRps: nullable(f.proxiedRps), cacheHitRatio: nullable(f.cacheHitRatio) };
  const [health, detail] = apiHealth(f, r);
  return {
    ...base,
    ...(health === 'down' ? { rps: null, proxiedRps: rates.proxiedRps, cacheHitRatio: null } : rates),
    health,
    detail,
  };
}

function apiHealth(f: ApiFacts, r: TargetReading | undefined): [Health, string] {
  // The gateway's verdict (rise/fall) decides whether it gets traffic; the scrape only adds why.
  if (f.rotation === 'down') return ['down', `out of rotation: ${f.lastCheckDetail ?? 'failed checks'}`];
  if (f.rotation === 'unknown') return ['unknown', 'not checked yet'];
  // The gateway keeps an upstream "draining" until it rises again, also once the process has exited.
  if (f.rotation === 'draining')
    return r && !r.readiness
      ? ['down', `out of rotation: drained, then ${r.error ?? 'gone'}`]
      : ['degraded', 'draining: finishing in-flight requests'];
  if (f.rotation === 'ejected') return ['degraded', 'ejected after a failed request'];
  if (r === undefined) return ['unknown', 'not read yet'];
  if (!r.readiness) return ['degraded', `in rotation, but not answering: ${r.error ?? 'unreachable'}`];
  if (r.readiness.status === 'degraded') return ['degraded', degradedApiDetail(r.readiness.details)];
  if (r.readiness.httpStatus !== 200) return ['degraded', `readiness ${r.readiness.status}`];
  return ['up', 'serving'];
}

export function workerBox(f: WorkerFacts): WorkerBox {
  const r = f.reading;
  const samples = r?.samples ?? [];
  const base = { id: f.url, name: f.name ?? f.url.replace(/^http:\/\//, ''), url: f.url };
  // A gauge with no job yet has no sample: 0 when /metrics was read at all.
  const gauge = (name: string) => nullable(sumOf(samples, name) ?? (samples.length ? 0 : undefined));
  const metrics = {
    active: gauge('queue_jobs_active'),
    concurrency: gauge('queue_worker_concurrency'),
    jobsPerSecond: nullable(f.jobsPerSecond),
  };
  if (r === undefined) return { ...base, ...metrics, health: 'unknown', detail: 'not read yet' };
  if (!r.readiness)
    return {
      ...base,
      active: null,
      concurrency: null,
      jobsPerSecond: null,
      health: 'down',
      detail: r.error ?? 'unreachable',
    };
  const { status, httpStatus, details } = r.readiness;
  if (status === 'draining')
    return { ...base, ...metrics, health: 'degraded', detail: 'draining: finishing active jobs' };
  if (httpStatus !== 200)
    return { ...base, ...metrics, health: 'down', detail: `not ready: ${notUp(details).join(', ') || status}` };
  if (status === 'degraded')
    return { ...base, ...metrics, health: 'degraded', detail: `degraded: ${notUp(details).join(', ')}` };
  return { ...base, ...metrics, health: 'up', detail: 'taking jobs' };
}

const notUp = (details: Readonly<Record<string, CheckDetail>>) =>
  Object.keys(details).filter((k) => details[k]!.status !== 'up');

/** What a degraded instance still does, in the words a reader of the page needs: read-only first. */
function degradedApiDetail(details: Readonly<Record<string, CheckDetail>>): string {
  const down = notUp(details);
  const modes = [
    ...(down.includes('primary') ? ['read-only (no primary)'] : []),
    ...(down.includes('redis') ? ['no sessions (Redis down)'] : []),
  ];
  const rest = down.filter((k) => k !== 'primary' && k !== 'redis');
  return [...modes, ...(rest.length ? [`degraded: ${rest.join(', ')}`] : [])].join('; ');
}

// What the API's topology monitor calls a node's state (src/infra/database), as a box colour.
const DB_STATE_HEALTH: Readonly<Record<string, Health>> = {
  healthy: 'up',
  lagging: 'degraded',
  suspect: 'degraded',
  down: 'down',
  fenced: 'down',
  'not responding': 'down',
};
const ROLE_ORDER: Readonly<Record<string, number>> = { primary: 0, replica: 1 };

interface DbReport {
  readonly role: string;
  readonly state: string;
  readonly health: Health;
  readonly lagSeconds: number | null;
  readonly lagBytes: number | null;
  readonly timeline: number | null;
  readonly error?: string;
}

/**
 * PostgreSQL nodes as the API instances see them (their readiness' `db:<node>` entries), merged: the most
 * reported role, the largest lag. Primaries first, a serving one before a dead one, so a promotion swaps
 * the boxes. With no instance answering, the last known nodes stay on the page as unknown.
 */
export function databaseBoxes(
  apiReadings: readonly (TargetReading | undefined)[],
  previous: readonly DatabaseBox[],
): DatabaseBox[] {
  const byNode = new Map<string, DbReport[]>();
  for (const r of apiReadings) {
    for (const [key, d] of Object.entries(r?.readiness?.details ?? {})) {
      if (!key.startsWith('db:')) continue;
      const reports = byNode.get(key.slice(3)) ?? [];
      byNode.set(key.slice(3), [...reports, dbReport(d)]);
    }
  }
  if (byNode.size === 0) {
    return previous.map((p) => ({
      ...p,
      health: 'unknown',
      detail: 'no API instance reports on it',
      lagSeconds: null,
      lagBytes: null,
      reportedBy: 0,
    }));
  }
  let boxes = [...byNode].map(([name, reports]) => databaseBox(name, reports));
  // Every instance that reports finds no primary: the tier is read-only, and the replicas that still serve say so.
  const primaryChecks = apiReadings.flatMap((r) =>
    r?.readiness?.details.primary ? [r.readiness.details.primary] : [],
  );
  if (primaryChecks.length > 0 && primaryChecks.every((d) => d.status !== 'up')) {
    boxes = boxes.map((b) =>
      b.role === 'replica' && b.health !== 'down' ? { ...b, detail: `read-only: ${b.detail}, no primary` } : b,
    );
  }
  return boxes.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name, 'en', { numeric: true }));
}

function rank(box: DatabaseBox): number {
  const role = ROLE_ORDER[box.role] ?? 2;
  return role * 2 + (role === 0 && box.health === 'down' ? 1 : 0);
}

function dbReport(d: CheckDetail): DbReport {
  const state = typeof d.state === 'string' ? d.state : 'unknown';
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    role: typeof d.role === 'string' ? d.role : 'unknown',
    state,
    health: DB_STATE_HEALTH[state] ?? 'unknown',
    lagSeconds: num(d.lagSeconds),
    lagBytes: num(d.lagBytes),
    timeline: num(d.timeline),
    error: typeof d.error === 'string' ? d.error : undefined,
  };
}

function databaseBox(name: string, reports: readonly DbReport[]): DatabaseBox {
  const health = combineHealth(reports.map((r) => r.health));
  const role = mostCommon(reports.map((r) => r.role).filter((r) => r !== 'unknown')) ?? 'unknown';
  const maxOf = (pick: (r: DbReport) => number | null) =>
    reports.reduce<number | null>((m, r) => (pick(r) === null ? m : Math.max(m ?? -Infinity, pick(r)!)), null);
  const lagSeconds = maxOf((r) => r.lagSeconds);
  const worst = reports.find((r) => r.health === 'down') ?? reports.find((r) => r.health === 'degraded') ?? reports[0]!;
  const downCount = reports.filter((r) => r.health === 'down').length;
  let detail = worst.state + (worst.error ? `: ${worst.error}` : '');
  if (worst.state === 'lagging' && lagSeconds !== null) detail = `lagging ${lagSeconds.toFixed(1)} s`;
  if (health === 'degraded' && downCount > 0 && downCount < reports.length)
    detail = `down for ${downCount} of ${reports.length} instances`;
  return {
    id: `db:${name}`,
    name,
    role,
    state: worst.state,
    health,
    detail,
    lagSeconds,
    lagBytes: maxOf((r) => r.lagBytes),
    timeline: maxOf((r) => r.timeline),
    reportedBy: reports.length,
  };
}

function mostCommon(values: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** Redis as the API instances' `redis` check sees it. */
export function redisBox(apiReadings: readonly (TargetReading | undefined)[]): Box {
  const reports = apiReadings.flatMap((r) => (r?.readiness?.details.redis ? [r.readiness.details.redis] : []));
  const health = combineHealth(reports.map((d): Health => (d.status === 'up' ? 'up' : 'down')));
  const detail =
    health === 'unknown'
      ? 'no API instance reports on it'
      : health === 'up'
        ? 'answering'
        : health === 'down'
          ? 'unreachable'
          : 'unreachable for some instances';
  return { id: 'redis', name: 'redis', health, detail };
}

/**
 * The queue: reachable as the instances' and workers' `queue` checks say (the API calls an unreachable
 * queue degraded, since jobs wait in its outbox); depth is queue-wide, so the max over processes, not the sum.
 */
export function queueBox(
  apiReadings: readonly (TargetReading | undefined)[],
  workerReadings: readonly (TargetReading | undefined)[],
  workers: readonly WorkerBox[],
): QueueBox {
  const all = [...apiReadings, ...workerReadings];
  const checks = all.flatMap((r) => (r?.readiness?.details.queue ? [r.readiness.details.queue] : []));
  let health = combineHealth(checks.map((d): Health => (d.status === 'up' ? 'up' : 'down')));
  const samples = all.flatMap((r) => r?.samples ?? []);
  const depth = (state: string) => maxPerQueue(samples, 'queue_jobs', (l) => l.state === state);
  const waiting = sumNullable(depth('waiting'), depth('prioritized'));
  const outboxPending = maxPerQueue(samples, 'outbox_pending_rows', () => true);
  let detail =
    health === 'up'
      ? 'reachable'
      : health === 'down'
        ? 'unreachable: jobs wait in the outbox'
        : health === 'unknown'
          ? 'no process reports on it'
          : 'unreachable for some processes';
  if (health === 'up' && (waiting ?? 0) > 0 && workers.length > 0 && !workers.some((w) => w.health === 'up')) {
    health = 'degraded';
    detail = 'jobs waiting and no worker is up';
  }
  return {
    id: 'queue',
    name: 'queue',
    health,
    detail,
    waiting,
    active: depth('active'),
    delayed: depth('delayed'),
    failed: depth('failed'),
    completed: depth('completed'),
    outboxPending,
    workers: workers.filter((w) => w.health === 'up').length,
  };
}

/** Every process reports the same queue-wide gauges: the max per queue, summed over queues. */
function maxPerQueue(
  samples: readonly Sample[],
  name: string,
  where: (labels: Sample['labels']) => boolean,
): number | null {
  const perQueue = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== name || !where(s.labels) || !Number.isFinite(s.value)) continue;
    const q = s.labels.queue ?? '';
    perQueue.set(q, Math.max(perQueue.get(q) ?? 0, s.value));
  }
  return perQueue.size === 0 ? null : [...perQueue.values()].reduce((a, b) => a + b, 0);
}

const sumNullable = (a: number | null, b: number | null) => (a === null && b === null ? null : (a ?? 0) + (b ?? 0));
