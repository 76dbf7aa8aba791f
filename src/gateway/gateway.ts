import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import proxyAddr from 'proxy-addr';
import { AdminApi } from './admin/admin-api';
import { AdminAuth } from './admin/admin-auth';
import { AdminSession } from './admin/admin-session';
import { createGatewayMetrics } from './admin/gateway-metrics';
import { ArchitecturePage } from './architecture/architecture-page';
import { EdgeCache, type ExchangeFactory } from './cache/edge-cache';
import type { GatewayConfig } from './config/gateway-config';
import { DnsDiscovery, dnsResolver } from './discovery/dns-discovery';
import type { ProxyContext } from './proxy/proxy-exchange';
import { ProxyStats } from './proxy/proxy-stats';
import { PrivatePaths } from './proxy/private-paths';
import { StickySessions } from './proxy/sticky-sessions';
import { createGatewayServer } from './server/gateway-server';
import { RequestHandler } from './server/request-handler';
import { HealthChecker } from './upstreams/health-checker';
import { UpstreamSet } from './upstreams/upstream-set';

/** The whole gateway: upstream set, discovery, health checks, edge cache, proxy, admin API and page, listeners. */
export class Gateway {
  private draining = false;
  private server?: Server;
  private adminServer?: Server;

  private constructor(
    private readonly config: GatewayConfig,
    private readonly log: Logger,
    readonly upstreams: UpstreamSet,
    private readonly checker: HealthChecker,
    private readonly dns: DnsDiscovery | undefined,
    private readonly handler: RequestHandler,
    private readonly admin: AdminApi,
    private readonly stats: ProxyStats,
    private readonly page: ArchitecturePage,
  ) {}

  static async start(config: GatewayConfig, log: Logger): Promise<Gateway> {
    const upstreams = new UpstreamSet(config);
    const stats = new ProxyStats();
    const { discovery } = config;
    if (discovery.kind === 'static') for (const url of discovery.upstreams) upstreams.add(url, 'static');
    const dns =
      discovery.kind === 'dns'
        ? new DnsDiscovery(
            upstreams,
            discovery.host,
            discovery.port,
            discovery.intervalMs,
            dnsResolver(discovery.servers),
            log,
          )
        : undefined;
    const checker = new HealthChecker(upstreams, config.health, log);
    await dns?.start();

    let handler: RequestHandler | undefined;
    const exchangeFactory: ExchangeFactory = (...args) => handler!.exchange(...args);
    const cache = config.cache.enabled ? new EdgeCache(config.cache, stats, exchangeFactory) : null;
    const metrics = createGatewayMetrics(upstreams, stats, cache);
    const ctx: ProxyContext = {
      upstreams,
      stats,
      maxTries: config.retry.tries,
      requestTimeoutMs: config.retry.requestTimeoutMs,
      responseTimeoutMs: config.upstream.responseTimeoutMs,
      log,
      observeDuration: metrics.observeDuration,
    };
    let gateway: Gateway | undefined;
    const draining = () => gateway?.draining ?? false;
    const auth = new AdminAuth(config.admin.token, config.production, config.admin.purgeToken);
    const session = new AdminSession();
    const page = new ArchitecturePage({
      upstreams,
      stats,
      cache,
      config: config.observe,
      health: config.health,
      draining,
      auth,
      session,
      log,
    });
    const admin = new AdminApi({
      upstreams,
      stats,
      cache,
      registry: metrics.registry,
      auth,
      session,
      routes: page.routes(),
      discovery: () => dns?.toJSON() ?? { kind: 'static' },
      draining,
    });
    handler = new RequestHandler({
      ctx,
      cache,
      admin: config.admin.port === undefined ? admin : null,
      trust: config.trustedProxies.length ? proxyAddr.compile([...config.trustedProxies]) : null,
      sticky: config.sticky.enabled ? new StickySessions(config.sticky.cookie, upstreams) : null,
      privatePaths: new PrivatePaths(config.privatePaths),
      limits: config.limits,
      draining,
    });
    gateway = new Gateway(config, log, upstreams, checker, dns, handler, admin, stats, page);
    // One check round before listening, so the first requests find the healthy upstreams in rotation.
    await checker.checkAll();
    await gateway.listen();
    return gateway;
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  private async listen(): Promise<void> {
    const { listen, admin, limits } = this.config;
    this.server = createGatewayServer(limits, this.stats, this.handler.handle);
    await listenOn(this.server, listen.host, listen.port);
    if (admin.port !== undefined) {
      this.adminServer = createServer((req, res) => this.admin.handle(req, res, false));
      await listenOn(this.adminServer, admin.host, admin.port);
    }
    const available = this.upstreams.availableCount();
    this.log.info(
      {
        listen: `http://${listen.host}:${listen.port}`,
        admin: admin.port ? `http://${admin.host}:${admin.port}` : 'same port, /_gateway/',
        upstreams: this.upstreams.all.map((u) => u.url),
        available,
      },
      'gateway listening',
    );
  }

  /**
   * SIGTERM: stop accepting, let in-flight requests finish (their connections close after the
   * response), then stop checks and close the upstream pools. Resolves true when everything drained.
   */
  async shutdown(): Promise<boolean> {
    if (this.draining) return false;
    this.draining = true;
    this.log.info('draining: no new connections; finishing in-flight requests');
    await this.page.close();
    const server = this.server!;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.adminServer?.close();
    // close() ends only the connections idle at that moment; keep ending the ones that become idle.
    const sweeper = setInterval(() => server.closeIdleConnections(), 50);
    server.closeIdleConnections();
    const drained = await Promise.race([
      closed.then(() => true),
      delay(this.config.shutdownTimeoutMs).then(() => false),
    ]);
    clearInterval(sweeper);
    if (!drained) server.closeAllConnections();
    this.dns?.stop();
    await this.checker.stop();
    await this.upstreams.close();
    this.adminServer?.closeAllConnections();
    return drained;
  }
}

function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
