import { Client } from 'undici';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/gateway-config';
import type { Upstream } from './upstream';
import type { UpstreamSet } from './upstream-set';

interface Probe {
  readonly client: Client;
  readonly timer: NodeJS.Timeout;
  running: Promise<void> | null;
}

/**
 * Active health checks: GET <path> on every upstream each interval, on a connection of its own so a
 * busy request pool cannot delay the verdict. 2xx is a pass (the API answers 200 for ok and degraded);
 * anything else, a timeout or a refused connection is a failure; a 503 whose body says "draining" takes
 * the upstream out at once instead of after `fall` checks, like Envoy's immediate health-check failure.
 */
export class HealthChecker {
  private readonly probes = new Map<Upstream, Probe>();
  private stopped = false;

  constructor(
    set: UpstreamSet,
    private readonly config: GatewayConfig['health'],
    private readonly log: Logger,
  ) {
    set.listen({ added: (u) => this.watch(u), removed: (u) => this.unwatch(u) });
    for (const u of set.all) this.watch(u);
  }

  /** Checks every upstream once now; resolves when all answered or timed out (used at startup). */
  async checkAll(): Promise<void> {
    await Promise.all([...this.probes.keys()].map((u) => this.check(u)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const probes = [...this.probes.values()];
    this.probes.clear();
    for (const p of probes) clearInterval(p.timer);
    await Promise.all(probes.map((p) => p.client.destroy().catch(() => undefined)));
  }

  private watch(upstream: Upstream): void {
    if (this.stopped || this.probes.has(upstream)) return;
    const client = new Client(upstream.url, { connectTimeout: this.config.timeoutMs, pipelining: 1 });
    const timer = setInterval(() => void this.check(upstream), this.config.intervalMs);
    timer.unref();
    this.probes.set(upstream, { client, timer, running: null });
    void this.check(upstream);
  }

  private unwatch(upstream: Upstream): void {
    const probe = this.probes.get(upstream);
    if (!probe) return;
    this.probes.delete(upstream);
    clearInterval(probe.timer);
    void probe.client.destroy().catch(() => undefined);
  }

  /** Runs one check, or joins the one already running (never two at once on one upstream). */
  private check(upstream: Upstream): Promise<void> {
    const probe = this.probes.get(upstream);
    if (!probe) return Promise.resolve();
    probe.running ??= this.runCheck(upstream, probe).finally(() => (probe.running = null));
    return probe.running;
  }

  private async runCheck(upstream: Upstream, probe: Probe): Promise<void> {
    const { ok, detail, draining } = await this.probe(probe.client);
    if (this.probes.get(upstream) !== probe) return;
    const transition = upstream.recordCheck(ok, detail, draining);
    if (transition) {
      const level = transition.to === 'up' ? 'info' : 'warn';
      this.log[level](
        { upstream: upstream.url, from: transition.from, to: transition.to, detail, draining },
        `upstream ${transition.to}`,
      );
    }
  }

  private async probe(client: Client): Promise<{ ok: boolean; detail: string; draining: boolean }> {
    const { timeoutMs, path } = this.config;
    try {
      const res = await client.request({
        method: 'GET',
        path,
        headers: { 'user-agent': 'zero-to-millions-gateway/health' },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.body.text();
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      return { ok, detail: `HTTP ${res.statusCode}`, draining: !ok && res.statusCode === 503 && saysDraining(text) };
    } catch (err) {
      const e = err as { code?: unknown; name?: string; message?: string };
      // A DOMException (the abort timeout) has a numeric legacy code: its name says more.
      return { ok: false, detail: typeof e.code === 'string' ? e.code : (e.name ?? String(err)), draining: false };
    }
  }
}

/** The API's readiness answers `{ status: 'draining' }` once SIGTERM arrived (src/infra/health). */
export function saysDraining(body: string): boolean {
  try {
    return (JSON.parse(body) as { status?: unknown }).status === 'draining';
  } catch {
    return false;
  }
}
