import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { createServer, type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Registry } from 'prom-client';
import { type AppConfig, InjectConfig } from '../../../config';
import { DrainState, ReadinessRegistry } from '../../health';
import { SERVED_BY_HEADER } from '../../http';
import { InjectMetrics } from '../../observability';

/**
 * The worker's only listener, on its own port: probes and Prometheus. Plain node:http, since a worker
 * serves no API and should not carry an HTTP framework for three fixed routes.
 */
@Injectable()
export class WorkerHttpServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkerHttpServer.name);
  private server?: Server;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    @InjectMetrics() private readonly metrics: Registry,
    private readonly health: HealthCheckService,
    private readonly readiness: ReadinessRegistry,
    private readonly drain: DrainState,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { host } = this.config.http;
    const port = this.config.worker.httpPort;
    this.server = createServer((req, res) => void this.route(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, resolve);
    });
    this.logger.log(`health and metrics on http://${host}:${port} (/health/live, /health/ready, /metrics)`);
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    // As the API does: says which process answered, so a stack (or a probe) can tell ours from a stranger on the port.
    res.setHeader(SERVED_BY_HEADER, this.config.instanceId);
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, error(405, 'only GET is served here'));
      if (path === '/health/live') return send(res, 200, { status: 'ok' });
      if (path === '/health/ready') return await this.ready(res);
      if (path === '/metrics') {
        res.writeHead(200, { 'content-type': this.metrics.contentType, 'cache-control': 'no-store' });
        return void res.end(await this.metrics.metrics());
      }
      return send(res, 404, error(404, `no route ${path}`));
    } catch (err) {
      this.logger.error(`${path} failed: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, error(500, 'Internal server error'));
    }
  }

  /** Same shape as the API's /health/ready. */
  private async ready(res: ServerResponse): Promise<void> {
    if (this.drain.draining)
      return send(res, 503, { ...error(503, 'draining: shutting down'), status: 'draining', details: {} });
    try {
      send(res, 200, await this.health.check(this.readiness.all()));
    } catch (err) {
      const result = (err as { getResponse?: () => HealthCheckResult }).getResponse?.();
      if (!result) throw err;
      const failing = Object.keys(result.error ?? {}).join(', ');
      send(res, 503, { ...error(503, `not ready: ${failing}`), status: 'error', details: result.details });
    }
  }
}

function error(statusCode: number, message: string) {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
