import type { GatewayConfig } from '../config/gateway-config';
import { Upstream } from './upstream';

export type UpstreamSource = 'static' | 'dns' | 'admin';

export interface UpstreamSetListener {
  added(upstream: Upstream): void;
  removed(upstream: Upstream): void;
}

/**
 * The current upstreams and round-robin over the available ones. The set changes at run time (DNS
 * re-resolution, the admin API) without a restart; a removed upstream finishes its in-flight requests.
 */
export class UpstreamSet {
  private readonly byUrl = new Map<string, { upstream: Upstream; source: UpstreamSource }>();
  private list: Upstream[] = [];
  private cursor = 0;
  private readonly listeners: UpstreamSetListener[] = [];

  constructor(
    config: Pick<GatewayConfig, 'upstream' | 'health' | 'ejection'>,
    private readonly create: (url: string) => Upstream = (url) => new Upstream(url, config),
  ) {}

  listen(listener: UpstreamSetListener): void {
    this.listeners.push(listener);
  }

  get all(): readonly Upstream[] {
    return this.list;
  }

  get(url: string): Upstream | undefined {
    return this.byUrl.get(url)?.upstream;
  }

  sourceOf(url: string): UpstreamSource | undefined {
    return this.byUrl.get(url)?.source;
  }

  availableCount(now = Date.now()): number {
    let n = 0;
    for (const u of this.list) if (u.available(now)) n++;
    return n;
  }

  /**
   * The next available upstream in round-robin order that is not in `tried` (the upstreams a retried
   * request already failed on); undefined when there is none. Allocation-free: this runs per request.
   */
  pick(tried: readonly Upstream[] | null, now: number): Upstream | undefined {
    const list = this.list;
    const n = list.length;
    for (let i = 0; i < n; i++) {
      const u = list[this.cursor]!;
      this.cursor = this.cursor + 1 >= n ? 0 : this.cursor + 1;
      if (u.available(now) && (tried === null || !tried.includes(u))) return u;
    }
    return undefined;
  }

  /** Adds an upstream; returns false when it is already in the set. */
  add(url: string, source: UpstreamSource): boolean {
    if (this.byUrl.has(url)) return false;
    const upstream = this.create(url);
    this.byUrl.set(url, { upstream, source });
    this.list = [...this.list, upstream];
    for (const l of this.listeners) l.added(upstream);
    return true;
  }

  /** Removes an upstream; its pool closes once in-flight requests finish. Returns false when unknown. */
  remove(url: string): boolean {
    const entry = this.byUrl.get(url);
    if (!entry) return false;
    this.byUrl.delete(url);
    this.list = this.list.filter((u) => u !== entry.upstream);
    if (this.cursor >= this.list.length) this.cursor = 0;
    for (const l of this.listeners) l.removed(entry.upstream);
    void entry.upstream.close().catch(() => undefined);
    return true;
  }

  /** Makes the members from `source` exactly `urls` (DNS re-resolution); returns what changed. */
  replace(source: UpstreamSource, urls: readonly string[]): { added: string[]; removed: string[] } {
    const wanted = new Set(urls);
    const removed = [...this.byUrl].filter(([url, e]) => e.source === source && !wanted.has(url)).map(([url]) => url);
    const added = urls.filter((url) => !this.byUrl.has(url));
    for (const url of removed) this.remove(url);
    for (const url of added) this.add(url, source);
    return { added, removed };
  }

  async close(): Promise<void> {
    await Promise.all(this.list.map((u) => u.close().catch(() => undefined)));
  }
}
