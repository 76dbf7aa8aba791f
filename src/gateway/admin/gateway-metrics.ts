import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { EdgeCache, EdgeCacheOutcomes } from '../cache/edge-cache';
import type { ProxyStats } from '../proxy/proxy-stats';
import type { UpstreamSet } from '../upstreams/upstream-set';
import { LatencyHistogram } from './latency-histogram';

type Sample = [labels: Record<string, string>, value: number];

/** A counter whose value is read from the gateway's plain counters at scrape time. */
function scraped(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: () => Sample[],
  kind: 'counter' | 'gauge',
): void {
  const Metric = kind === 'counter' ? Counter : Gauge;
  new Metric({
    name,
    help,
    labelNames,
    registers: [registry],
    collect(this: Counter | Gauge) {
      this.reset();
      for (const [labels, value] of read()) (this as Gauge).inc(labels, value);
    },
  });
}

/**
 * The gateway's Prometheus registry (a dedicated one, never prom-client's global). Only the latency
 * histogram is observed per request; everything else is read at scrape time from plain counters.
 */
export function createGatewayMetrics(
  upstreams: UpstreamSet,
  stats: ProxyStats,
  cache: EdgeCache | null,
): { registry: Registry; observeDuration: (s: number) => void } {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'gateway' });
  collectDefaultMetrics({ register: registry });
  const duration = new LatencyHistogram(
    'gateway_request_duration_seconds',
    'Time from request to the last byte of the proxied response (or the gateway error)',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registry,
  );
  const perUpstream = (read: (u: UpstreamSet['all'][number]) => number) => () =>
    upstreams.all.map((u): Sample => [{ upstream: u.url }, read(u)]);
  scraped(
    registry,
    'gateway_responses_total',
    'Responses sent by the gateway, by status class',
    ['class'],
    () => stats.responses.slice(1).map((n, i): Sample => [{ class: `${i + 1}xx` }, n]),
    'counter',
  );
  scraped(
    registry,
    'gateway_retries_total',
    'Requests sent again to another upstream',
    [],
    () => [[{}, stats.retries]],
    'counter',
  );
  scraped(
    registry,
    'gateway_no_upstream_total',
    'Requests answered 503 because no upstream was available',
    [],
    () => [[{}, stats.noUpstream]],
    'counter',
  );
  scraped(
    registry,
    'gateway_truncated_responses_total',
    'Responses cut short because the upstream failed mid-body',
    [],
    () => [[{}, stats.truncated]],
    'counter',
  );
  scraped(
    registry,
    'gateway_rejected_total',
    'Requests refused by the gateway limits',
    ['reason'],
    () => Object.entries(stats.rejected).map(([reason, n]): Sample => [{ reason }, n]),
    'counter',
  );
  scraped(
    registry,
    'gateway_upstream_available',
    '1 when the upstream is in rotation',
    ['upstream'],
    perUpstream((u) => Number(u.available(Date.now()))),
    'gauge',
  );
  scraped(
    registry,
    'gateway_upstream_in_flight',
    'Requests in flight on the upstream',
    ['upstream'],
    perUpstream((u) => u.inFlight),
    'gauge',
  );
  scraped(
    registry,
    'gateway_upstream_requests_total',
    'Tries dispatched to the upstream',
    ['upstream'],
    perUpstream((u) => u.requests),
    'counter',
  );
  scraped(
    registry,
    'gateway_upstream_ejections_total',
    'Passive outlier ejections',
    ['upstream'],
    perUpstream((u) => u.ejection.ejections),
    'counter',
  );
  scraped(
    registry,
    'gateway_upstream_failures_total',
    'Failed tries by kind',
    ['upstream', 'kind'],
    () =>
      upstreams.all.flatMap((u) =>
        Object.entries(u.failures).map(([kind, n]): Sample => [{ upstream: u.url, kind }, n]),
      ),
    'counter',
  );
  scraped(
    registry,
    'gateway_upstream_health_checks_total',
    'Active health checks by result',
    ['upstream', 'result'],
    () =>
      upstreams.all.flatMap((u): Sample[] => [
        [{ upstream: u.url, result: 'ok' }, u.checks.ok],
        [{ upstream: u.url, result: 'failed' }, u.checks.failed],
      ]),
    'counter',
  );
  if (cache) {
    const s = cache.stats;
    scraped(
      registry,
      'gateway_edge_cache_responses_total',
      'Edge cache outcomes (X-Edge-Cache); kind="page" counts page loads (Accept: text/html) apart from the rest',
      ['result', 'kind'],
      () =>
        (
          [
            ['page', s.pages],
            ['other', subtract(s, s.pages)],
          ] as const
        ).flatMap(([kind, o]): Sample[] => [
          [{ result: 'hit', kind }, o.hits],
          [{ result: 'miss', kind }, o.misses],
          [{ result: 'stale', kind }, o.stale],
          [{ result: 'revalidated', kind }, o.revalidated],
          [{ result: 'bypass', kind }, o.bypass],
        ]),
      'counter',
    );
    scraped(
      registry,
      'gateway_edge_cache_coalesced_total',
      "Requests that waited for another request's origin fetch",
      [],
      () => [[{}, s.coalesced]],
      'counter',
    );
    scraped(registry, 'gateway_edge_cache_stores_total', 'Responses stored', [], () => [[{}, s.stores]], 'counter');
    scraped(
      registry,
      'gateway_edge_cache_purged_total',
      'Entries removed by purges',
      [],
      () => [[{}, s.purged]],
      'counter',
    );
    scraped(
      registry,
      'gateway_edge_cache_bytes',
      'Bytes held by the edge cache',
      [],
      () => [[{}, cache.store.bytes]],
      'gauge',
    );
    scraped(
      registry,
      'gateway_edge_cache_entries',
      'Responses held by the edge cache',
      [],
      () => [[{}, cache.store.entries]],
      'gauge',
    );
  }
  return { registry, observeDuration: (seconds) => duration.observe(seconds) };
}

function subtract(all: EdgeCacheOutcomes, part: EdgeCacheOutcomes): EdgeCacheOutcomes {
  return {
    hits: all.hits - part.hits,
    misses: all.misses - part.misses,
    stale: all.stale - part.stale,
    revalidated: all.revalidated - part.revalidated,
    bypass: all.bypass - part.bypass,
  };
}
