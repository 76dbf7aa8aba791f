import type { Logger } from 'pino';
import type { EdgeCache } from '../cache/edge-cache';
import type { GatewayConfig } from '../config/gateway-config';
import type { ProxyStats } from '../proxy/proxy-stats';
import type { UpstreamSet } from '../upstreams/upstream-set';
import {
  apiBox,
  type ArchitectureSnapshot,
  type DatabaseBox,
  databaseBoxes,
  type GatewayBox,
  queueBox,
  redisBox,
  workerBox,
} from './architecture-snapshot';
import { CounterWindow, ratioOf } from './counter-window';
import { sumOf, type Sample } from './prometheus-text';
import { type TargetReading, TargetScraper } from './target-scraper';

// Rates over a few seconds: steady enough to read, short enough that a kill shows at once.
const RATE_WINDOW_MS = 5000;

// Only these series are kept from each /metrics (the rest, histograms included, is skipped while parsing).
const WANTED = new Set([
  'process_start_time_seconds',
  'http_requests_total',
  'cache_requests_total',
  'queue_jobs',
  'outbox_pending_rows',
  'queue_jobs_active',
  'queue_worker_concurrency',
  'queue_jobs_processed_total',
]);

/** Probes and scrapes are not client traffic: left out of an instance's requests per second. */
const isClientRoute = (labels: Sample['labels']) => !/^\/(health|metrics)(\/|$)/.test(labels.route ?? '');

/** Per process: its last reading, the name it reports (the `instance` label) and its counter windows. */
class ObservedTarget {
  name?: string;
  reading?: TargetReading;
  readonly requests = new CounterWindow(RATE_WINDOW_MS);
  readonly proxied = new CounterWindow(RATE_WINDOW_MS);
  readonly cacheHits = new CounterWindow(RATE_WINDOW_MS);
  readonly cacheMisses = new CounterWindow(RATE_WINDOW_MS);
  readonly jobs = new CounterWindow(RATE_WINDOW_MS);

  record(reading: TargetReading): void {
    this.reading = reading;
    const { at, samples } = reading;
    this.name = samples.find((s) => s.labels.instance)?.labels.instance ?? this.name;
    if (!reading.readiness) return this.forgetRates();
    // A series not created yet counts 0; no samples at all means /metrics failed, so the rate is unknown.
    const add = (w: CounterWindow, v: number | undefined) => (samples.length === 0 ? w.clear() : w.record(at, v ?? 0));
    add(this.requests, sumOf(samples, 'http_requests_total', isClientRoute));
    add(
      this.cacheHits,
      sumOf(samples, 'cache_requests_total', (l) => l.result === 'hit'),
    );
    add(
      this.cacheMisses,
      sumOf(samples, 'cache_requests_total', (l) => l.result === 'miss'),
    );
    add(this.jobs, sumOf(samples, 'queue_jobs_processed_total'));
  }

  forgetRates(): void {
    for (const w of [this.requests, this.cacheHits, this.cacheMisses, this.jobs]) w.clear();
  }
}

export interface ObserverDeps {
  readonly upstreams: UpstreamSet;
  readonly stats: ProxyStats;
  readonly cache: EdgeCache | null;
  readonly config: GatewayConfig['observe'];
  readonly health: GatewayConfig['health'];
  readonly draining: () => boolean;
  readonly streams: () => number;
  readonly log: Logger;
}

/**
 * Reads every API instance and worker once per interval, while started (the stream starts it for its
 * first client and stops it after its last), and turns the readings plus the gateway's own counters into
 * one snapshot. Rounds never overlap and each read is bounded, so a hung process delays nothing.
 */
export class ArchitectureObserver {
  private readonly scraper: TargetScraper;
  private readonly apis = new Map<string, ObservedTarget>();
  private readonly workerTargets = new Map<string, ObservedTarget>();
  /** The workers to read: GATEWAY_OBSERVE_WORKERS, changed at run time through POST /_gateway/architecture/workers. */
  readonly workers: Set<string>;
  private readonly gatewayResponses = new CounterWindow(RATE_WINDOW_MS);
  private readonly edgeHits = new CounterWindow(RATE_WINDOW_MS);
  private readonly edgeMisses = new CounterWindow(RATE_WINDOW_MS);
  private readonly pageHits = new CounterWindow(RATE_WINDOW_MS);
  private readonly pageMisses = new CounterWindow(RATE_WINDOW_MS);
  private databases: DatabaseBox[] = [];
  private running = false;
  /** Bumped by every start and stop, so a round begun before a restart cannot run a second loop. */
  private epoch = 0;
  private timer?: NodeJS.Timeout;
  private seq = 0;

  constructor(
    private readonly deps: ObserverDeps,
    private readonly onSnapshot: (snapshot: ArchitectureSnapshot) => void,
  ) {
    this.scraper = new TargetScraper(deps.config.timeoutMs, WANTED);
    this.workers = new Set(deps.config.workers);
  }

  get started(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.round(++this.epoch);
  }

  stop(): void {
    this.running = false;
    this.epoch++;
    clearTimeout(this.timer);
    // Rates restart from fresh samples next time, rather than spanning the time nobody watched.
    for (const t of [...this.apis.values(), ...this.workerTargets.values()]) {
      t.forgetRates();
      t.proxied.clear();
    }
    for (const w of [this.gatewayResponses, this.edgeHits, this.edgeMisses, this.pageHits, this.pageMisses]) w.clear();
  }

  async close(): Promise<void> {
    this.stop();
    await this.scraper.close();
  }

  private async round(epoch: number): Promise<void> {
    const started = Date.now();
    const upstreams = this.deps.upstreams.all;
    for (const url of this.apis.keys()) if (!upstreams.some((u) => u.url === url)) this.apis.delete(url);
    for (const u of upstreams) if (!this.apis.has(u.url)) this.apis.set(u.url, new ObservedTarget());
    for (const url of this.workerTargets.keys()) if (!this.workers.has(url)) this.workerTargets.delete(url);
    for (const url of this.workers) if (!this.workerTargets.has(url)) this.workerTargets.set(url, new ObservedTarget());
    const targets = [...this.apis, ...this.workerTargets];
    const readings = await Promise.all(targets.map(([url]) => this.scraper.read(url)));
    if (epoch !== this.epoch) return;
    try {
      targets.forEach(([, target], i) => target.record(readings[i]!));
      this.onSnapshot(this.snapshot());
    } catch (err) {
      this.deps.log.error({ err }, 'architecture snapshot failed');
    }
    this.timer = setTimeout(
      () => void this.round(epoch),
      Math.max(0, this.deps.config.intervalMs - (Date.now() - started)),
    );
    this.timer.unref();
  }

  private snapshot(): ArchitectureSnapshot {
    const now = Date.now();
    const apis = this.deps.upstreams.all.map((u) => {
      const t = this.apis.get(u.url)!;
      t.proxied.record(now, u.requests);
      return apiBox({
        url: u.url,
        name: t.name,
        rotation: u.status,
        lastCheckDetail: u.lastCheck?.detail,
        inFlight: u.inFlight,
        reading: t.reading,
        rps: t.requests.perSecond(),
        proxiedRps: t.proxied.perSecond(),
        cacheHitRatio: ratioOf(t.cacheHits, t.cacheMisses),
      });
    });
    const workers = [...this.workerTargets].map(([url, t]) =>
      workerBox({ url, name: t.name, reading: t.reading, jobsPerSecond: t.jobs.perSecond() }),
    );
    const apiReadings = [...this.apis.values()].map((t) => t.reading);
    this.databases = databaseBoxes(apiReadings, this.databases);
    const { intervalMs, rise, fall } = this.deps.health;
    return {
      v: 1,
      seq: ++this.seq,
      at: new Date(now).toISOString(),
      intervalMs: this.deps.config.intervalMs,
      healthChecks: { intervalMs, rise, fall },
      gateway: this.gatewayBox(now),
      apis,
      databases: this.databases,
      redis: redisBox(apiReadings),
      queue: queueBox(
        apiReadings,
        [...this.workerTargets.values()].map((t) => t.reading),
        workers,
      ),
      workers,
    };
  }

  private gatewayBox(now: number): GatewayBox {
    const { upstreams, stats, cache } = this.deps;
    const available = upstreams.availableCount(now);
    const total = upstreams.all.length;
    this.gatewayResponses.record(
      now,
      stats.responses.reduce((a, b) => a + b, 0),
    );
    let edgeCache: GatewayBox['edgeCache'] = {
      enabled: false,
      hitRatio: null,
      pageHitRatio: null,
      entries: 0,
      bytes: 0,
    };
    if (cache) {
      const s = cache.stats;
      // Served from memory (fresh or stale) against what needed the origin (a fetch or a revalidation).
      this.edgeHits.record(now, s.hits + s.stale);
      this.edgeMisses.record(now, s.misses + s.revalidated);
      this.pageHits.record(now, s.pages.hits + s.pages.stale);
      this.pageMisses.record(now, s.pages.misses + s.pages.revalidated);
      edgeCache = {
        enabled: true,
        hitRatio: ratioOf(this.edgeHits, this.edgeMisses) ?? null,
        pageHitRatio: ratioOf(this.pageHits, this.pageMisses) ?? null,
        entries: cache.store.entries,
        bytes: cache.store.bytes,
      };
    }
    const [health, detail] = this.deps.draining()
      ? (['degraded', 'draining: shutting down'] as const)
      : available === 0
        ? (['down', 'no upstream in rotation: answering 503'] as const)
        : available < total
          ? (['degraded', `${available} of ${total} instances in rotation`] as const)
          : (['up', `all ${total} instances in rotation`] as const);
    return {
      id: 'gateway',
      name: 'gateway',
      health,
      detail,
      rps: this.gatewayResponses.perSecond() ?? null,
      inFlight: upstreams.all.reduce((n, u) => n + u.inFlight, 0),
      upstreams: { available, total },
      edgeCache,
      streams: this.deps.streams(),
    };
  }
}
