import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import { type AppConfig, InjectConfig } from '../../config';
import { InjectMetrics } from '../observability';

const RETRY_MS = 500;
const PURGE_PATH = '/_gateway/cache/purge';

/**
 * Purges changed pages from every edge cache (each gateway in EDGE_PURGE_URLS), after the commit, as a CDN's purge
 * API is called. The first attempt is awaited with a deadline, so a write that returned has purged every edge that
 * answered. A gateway that did not is retried in the background, one pass at a time, until it takes the purge or
 * until the page would have expired there anyway (PAGE_CACHE_SECONDS + PAGE_STALE_SECONDS, the pages' s-maxage and
 * their stale-while-revalidate and stale-if-error): past that, no copy older than the change is served. Purges not
 * yet delivered when the process stops are lost; that window is then the bound on staleness.
 */
@Injectable()
export class EdgePurger implements OnApplicationShutdown {
  private readonly logger = new Logger('EdgePurger');
  /** `<gateway url> <path>` → when retrying it stops being useful. */
  private readonly pending = new Map<string, number>();
  private readonly lastWarned = new Map<string, number>();
  private retryTimer?: NodeJS.Timeout;
  private stopped = false;
  private readonly purges: Counter<'result'>;
  private readonly giveUpAfterMs: number;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    @InjectMetrics() metrics: Registry,
  ) {
    this.purges = new Counter({
      name: 'edge_purges_total',
      help: 'Page purges sent to an edge cache, by result (done; deferred for a retry; refused by a 4xx, not retried; abandoned once the copy expired)',
      labelNames: ['result'],
      registers: [metrics],
    });
    this.giveUpAfterMs = (config.pages.cacheSeconds + config.pages.staleSeconds) * 1000;
  }

  get enabled(): boolean {
    return this.config.pages.purge.urls.length > 0;
  }

  /** Purges `paths` (exact, or a prefix ending in `*`) from every edge cache; never throws. */
  async purge(paths: readonly string[]): Promise<void> {
    if (!this.enabled || paths.length === 0) return;
    const giveUpAt = Date.now() + this.giveUpAfterMs;
    const sends = this.config.pages.purge.urls.flatMap((url) => paths.map((path) => ({ url, path })));
    const results = await Promise.all(sends.map(({ url, path }) => this.send(url, path)));
    results.forEach((result, i) => {
      this.purges.inc({ result });
      if (result === 'deferred') this.pending.set(`${sends[i]!.url} ${sends[i]!.path}`, giveUpAt);
    });
    if (this.pending.size) this.scheduleRetry();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.pending.size) this.logger.warn(`${this.pending.size} edge purge(s) not delivered before shutdown`);
  }

  /** done; deferred (no answer, or a 5xx/408/429: try again); refused (any other 4xx: a wrong token or URL). */
  private async send(url: string, path: string): Promise<'done' | 'deferred' | 'refused'> {
    const { token, timeoutMs } = this.config.pages.purge;
    try {
      const res = await fetch(url + PURGE_PATH, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ path }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer();
      // 409: that gateway runs without an edge cache, so there is nothing to purge.
      if (res.ok || res.status === 409) return 'done';
      const retry = res.status >= 500 || res.status === 408 || res.status === 429;
      this.warn(
        url,
        `purge of ${path} ${retry ? 'refused for now' : 'refused (check EDGE_PURGE_TOKEN)'}: ${res.status}`,
      );
      return retry ? 'deferred' : 'refused';
    } catch (err) {
      this.warn(url, `purge of ${path} failed: ${(err as Error).message}`);
      return 'deferred';
    }
  }

  /** One line per gateway per 10 s: a gateway that is down for a minute is one problem, not a thousand lines. */
  private warn(url: string, message: string): void {
    const now = Date.now();
    if (now - (this.lastWarned.get(url) ?? 0) < 10_000) return;
    this.lastWarned.set(url, now);
    this.logger.warn(`${url}: ${message}`);
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => void this.retry(), RETRY_MS);
  }

  private async retry(): Promise<void> {
    const now = Date.now();
    const batch = [...this.pending].filter(([key, giveUpAt]) => {
      if (giveUpAt > now) return true;
      this.pending.delete(key);
      this.purges.inc({ result: 'abandoned' });
      return false;
    });
    try {
      await Promise.all(
        batch.map(async ([key, giveUpAt]) => {
          const space = key.indexOf(' ');
          const result = await this.send(key.slice(0, space), key.slice(space + 1));
          if (result === 'deferred') return;
          this.purges.inc({ result });
          // A newer change of the same page, deferred meanwhile, still needs a purge sent after its commit.
          if (this.pending.get(key) === giveUpAt) this.pending.delete(key);
        }),
      );
    } finally {
      this.retryTimer = undefined;
    }
    if (this.pending.size) this.scheduleRetry();
  }
}
