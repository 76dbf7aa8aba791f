import type { WrkResult } from './tools';
import type { Component } from './cpu-profile-breakdown';

export interface Measured extends WrkResult {
  readonly requests: number;
  readonly cpuUsPerRequest: number;
  /** Share of this round's requests with X-Cache HIT / MISS / BYPASS, from the API's counters. */
  readonly mix?: { hit: number; miss: number; bypass: number };
}

export const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const medianOf = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const medianRound = (results: Measured[]): Measured =>
  [...results].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(results.length / 2)]!;

/** The goals of the efficiency issue: a hit against the bare handler, and a database read against a bare `pg` read. */
export const GOALS = { hitVsBare: 0.5, hitCpuVsBare: 2.5, offVsBarePg: 0.5 };

/**
 * Rows are each subject's median round; ratios are per round, then their median.
 * Subjects, in order: bare, bare + cache, hit, miss, off, bare + pg.
 */
export function report(subjects: ReadonlyArray<{ name: string }>, rounds: Map<string, Measured[]>): void {
  const [bare, layer, hit, miss, off, barePg] = subjects.map((s) => rounds.get(s.name)!) as [
    Measured[],
    Measured[],
    Measured[],
    Measured[],
    Measured[],
    Measured[],
  ];
  const perRound = (f: (i: number) => number) => medianOf(bare.map((_, i) => f(i)));
  const rows = subjects.map((s) => {
    const mine = rounds.get(s.name)!;
    const r = medianRound(mine);
    const vsBare = perRound((i) => mine[i]!.requestsPerSecond / bare[i]!.requestsPerSecond).toFixed(2);
    const mix = r.mix ? `${pct(r.mix.hit)} / ${pct(r.mix.miss)} / ${pct(r.mix.bypass)}` : '';
    return `| ${s.name} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${vsBare}x | ${r.cpuUsPerRequest.toFixed(0)} | ${mix} | ${r.errors} |`;
  });
  const ratio = (a: Measured[], b: Measured[]) => perRound((i) => a[i]!.requestsPerSecond / b[i]!.requestsPerSecond);
  const cpu = (a: Measured[], b: Measured[]) =>
    perRound((i) => a[i]!.cpuUsPerRequest / b[i]!.cpuUsPerRequest).toFixed(2);
  const hitVsBare = ratio(hit, bare);
  const layerVsBare = ratio(layer, bare);
  const hitCpu = Number(cpu(hit, bare));
  const offVsPg = ratio(off, barePg);
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  console.log(`
| subject | req/s | p50 ms | p99 ms | req/s vs bare | CPU µs/req | HIT / MISS / BYPASS | errors |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Median of per-round ratios (${bare.length} rounds):
API cache hit / bare handler throughput:         ${hitVsBare.toFixed(2)}x  (goal >= ${GOALS.hitVsBare}x: ${verdict(hitVsBare >= GOALS.hitVsBare)})
API cache hit / bare handler CPU per request:    ${hitCpu.toFixed(2)}x  (goal <= ${GOALS.hitCpuVsBare}x: ${verdict(hitCpu <= GOALS.hitCpuVsBare)})
API CACHE_ENABLED=false / bare + pg read:        ${offVsPg.toFixed(2)}x  (goal >= ${GOALS.offVsBarePg}x: ${verdict(offVsPg >= GOALS.offVsBarePg)}; CPU ${cpu(off, barePg)}x)
bare + @CacheAside hit / bare handler throughput: ${layerVsBare.toFixed(2)}x  (the cache layer alone)
API cache hit / cache miss throughput:           ${ratio(hit, miss).toFixed(2)}x  (the hit-versus-miss speedup)
API cache hit / CACHE_ENABLED=false throughput:  ${ratio(hit, off).toFixed(2)}x
CPU per request: API hit / bare ${cpu(hit, bare)}x; bare + @CacheAside / bare ${cpu(layer, bare)}x; miss / hit ${cpu(miss, hit)}x; cache off / hit ${cpu(off, hit)}x
`);
}

// The API's per-request components, recognised by where their code lives.
export const API_COMPONENTS: Component[] = [
  {
    name: 'cache hit path (interceptor, reader, store)',
    match: /\/dist\/infra\/(cache|redis)\//,
  },
  // The cache's MGET and the limiter's syncs share the client library; one line, so neither is charged the other's.
  {
    name: 'Redis client (ioredis: cache lookups, limiter syncs)',
    match: /node_modules\/(ioredis|@ioredis\/[^/]+|redis-parser)\//,
  },
  {
    name: 'rate limiter (throttler guard, local counts, its route metadata)',
    match: /node_modules\/@nestjs\/throttler\/|\/dist\/infra\/rate-limit\/|\/dist\/infra\/http\/memoized-reflector/,
  },
  { name: 'sessions and cookies', match: /node_modules\/@fastify\/(session|cookie)\/|\/dist\/infra\/session\// },
  {
    name: 'security headers (helmet)',
    match: /node_modules\/(helmet|@fastify\/helmet)\/|\/dist\/infra\/http\/security-headers/,
  },
  {
    name: 'request logging (pino)',
    match: /node_modules\/(pino|pino-http|nestjs-pino|@pinojs\/[^/]+|sonic-boom|thread-stream)\//,
  },
  { name: 'metrics (prom-client)', match: /node_modules\/prom-client\/|\/dist\/infra\/observability\// },
  { name: 'database request context', match: /\/dist\/infra\/database\// },
  { name: 'http stamps, CORS, Cache-Control policy', match: /\/dist\/infra\/http\/|node_modules\/@fastify\/cors\// },
];
