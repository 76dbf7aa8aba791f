import { promises as dns } from 'node:dns';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { UpstreamSet } from '../upstreams/upstream-set';

/** host → its addresses; injectable so the re-resolution logic is testable without a DNS server. */
export type Resolve = (host: string) => Promise<string[]>;

/**
 * With no servers: the system resolver (getaddrinfo, so /etc/hosts and Docker's embedded DNS answer,
 * as for `docker compose --scale api=3`). With servers (e.g. Consul's DNS on :8600): ask them directly.
 */
export function dnsResolver(servers: readonly string[]): Resolve {
  if (servers.length === 0) {
    return async (host) => (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  }
  const resolver = new dns.Resolver({ timeout: 1000, tries: 2 });
  resolver.setServers([...servers]);
  return async (host) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
    const found = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    if (found.length === 0 && v4.status === 'rejected') throw v4.reason;
    return found;
  };
}

export const upstreamUrlFor = (address: string, port: number): string =>
  `http://${isIPv6(address) ? `[${address}]` : address}:${port}`;

/**
 * Re-resolves one name on an interval and makes the DNS members of the upstream set match the answer,
 * which is how compose scaling and Kubernetes headless services present instances. A failed lookup
 * keeps the last known set: stale addresses that fail health checks beat no upstreams at all.
 */
export class DnsDiscovery {
  private timer?: NodeJS.Timeout;
  lastError?: string;
  resolutions = 0;

  constructor(
    private readonly set: UpstreamSet,
    private readonly host: string,
    private readonly port: number,
    private readonly intervalMs: number,
    private readonly resolve: Resolve,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    let addresses: string[];
    try {
      addresses = await this.resolve(this.host);
      this.resolutions++;
      this.lastError = undefined;
    } catch (err) {
      this.lastError = (err as { code?: string }).code ?? String(err);
      this.log.warn({ host: this.host, error: this.lastError }, 'DNS lookup failed; keeping the last known upstreams');
      return;
    }
    const urls = [...new Set(addresses.map((a) => upstreamUrlFor(a, this.port)))].sort();
    const { added, removed } = this.set.replace('dns', urls);
    if (added.length || removed.length)
      this.log.info({ host: this.host, added, removed }, 'upstream set changed (DNS)');
  }

  toJSON(): Record<string, unknown> {
    return {
      kind: 'dns',
      name: `${this.host}:${this.port}`,
      intervalMs: this.intervalMs,
      resolutions: this.resolutions,
      lastError: this.lastError ?? null,
    };
  }
}
