import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { EdgeCache } from '../cache/edge-cache';
import type { ProxyStats } from '../proxy/proxy-stats';
import { sendJsonError } from '../server/json-error';
import type { UpstreamSet } from '../upstreams/upstream-set';
import type { AdminAccess, AdminAuth } from './admin-auth';
import type { AdminSession } from './admin-session';

export const ADMIN_PREFIX = '/_gateway/';
const MAX_ADMIN_BODY = 16 * 1024;

export const upstreamChange = z.strictObject({
  action: z.enum(['add', 'remove']),
  url: z
    .string()
    .url()
    .refine((v) => /^http:\/\/[^/]+\/?$/.test(v), 'must be an http://host:port origin without a path')
    .transform((v) => v.replace(/\/$/, '')),
});
const purgeRequest = z.strictObject({
  path: z.string().regex(/^\/\S*$/, 'must be a path starting with /, optionally ending in *'),
});

export interface AdminDeps {
  readonly upstreams: UpstreamSet;
  readonly stats: ProxyStats;
  readonly cache: EdgeCache | null;
  readonly registry: Registry;
  readonly auth: AdminAuth;
  readonly session: AdminSession;
  /** More routes under /_gateway/ (the architecture page), keyed by the path after the prefix. */
  readonly routes?: Readonly<Record<string, AdminRoute>>;
  readonly discovery: () => Record<string, unknown>;
  readonly draining: () => boolean;
}

export interface AdminRoute {
  readonly access: AdminAccess | 'open';
  /** A read route a browser may also reach with the admin session cookie (EventSource sends no header). */
  readonly session?: boolean;
  readonly method: string;
  readonly run: (req: IncomingMessage, res: ServerResponse, publicListener: boolean) => Promise<void> | void;
}

/** /_gateway/*: health (open), status and metrics (read), upstream changes and cache purges (write). */
export class AdminApi {
  private readonly startedAt = Date.now();
  private readonly routes: Record<string, AdminRoute>;

  constructor(private readonly deps: AdminDeps) {
    this.routes = {
      health: { access: 'open', method: 'GET', run: (_q, res) => this.health(res) },
      status: { access: 'read', method: 'GET', run: (_q, res) => sendJson(res, 200, this.status()) },
      metrics: { access: 'read', method: 'GET', run: (_q, res) => this.metrics(res) },
      upstreams: { access: 'write', method: 'POST', run: (req, res) => this.changeUpstreams(req, res) },
      'cache/purge': { access: 'purge', method: 'POST', run: (req, res) => this.purge(req, res) },
      ...deps.routes,
    };
  }

  handle(req: IncomingMessage, res: ServerResponse, publicListener: boolean): void {
    const path = req.url!.split('?')[0]!.slice(ADMIN_PREFIX.length);
    const route = Object.hasOwn(this.routes, path) ? this.routes[path] : undefined;
    if (route === undefined) return sendJsonError(res, 404, `no admin route ${req.url!.split('?')[0]}`);
    if (route.access !== 'open') {
      const verdict = this.deps.auth.check(req.headers.authorization, route.access, publicListener);
      const bySession =
        !verdict.ok &&
        verdict.statusCode === 401 &&
        route.session === true &&
        route.access === 'read' &&
        this.deps.session.verify(req.headers.cookie);
      if (!verdict.ok && !bySession)
        return sendJsonError(
          res,
          verdict.statusCode,
          verdict.message,
          undefined,
          verdict.statusCode === 401 ? ['www-authenticate', 'Bearer'] : [],
        );
    }
    if (req.method !== route.method)
      return sendJsonError(res, 405, `use ${route.method} for ${ADMIN_PREFIX}${path}`, undefined, [
        'allow',
        route.method,
      ]);
    Promise.resolve(route.run(req, res, publicListener)).catch((err: Error & { statusCode?: number }) => {
      // A body too large to read is not drained on a kept-alive connection: close it after the answer.
      if (err.statusCode === 413) res.shouldKeepAlive = false;
      sendJsonError(
        res,
        err.statusCode && err.statusCode < 500 ? err.statusCode : 500,
        err.statusCode ? err.message : 'internal error',
      );
    });
  }

  private health(res: ServerResponse): void {
    const available = this.deps.upstreams.availableCount();
    const total = this.deps.upstreams.all.length;
    if (this.deps.draining())
      return sendJson(res, 503, {
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'draining: shutting down',
        status: 'draining',
      });
    sendJson(res, 200, {
      status: available === 0 ? 'no upstream available' : available < total ? 'degraded' : 'ok',
      upstreams: { available, total },
    });
  }

  status(): Record<string, unknown> {
    const { upstreams, stats, cache } = this.deps;
    return {
      status: this.deps.draining() ? 'draining' : 'serving',
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      discovery: this.deps.discovery(),
      upstreams: upstreams.all.map((u) => ({ ...u.toJSON(), source: upstreams.sourceOf(u.url) })),
      totals: {
        responses: Object.fromEntries(stats.responses.slice(1).map((n, i) => [`${i + 1}xx`, n])),
        retries: stats.retries,
        noUpstream: stats.noUpstream,
        upstreamFailures: stats.upstreamFailures,
        truncated: stats.truncated,
        clientAborts: stats.clientAborts,
        rejected: { ...stats.rejected },
      },
      edgeCache: cache && { ...cache.stats, entries: cache.store.entries, bytes: cache.store.bytes },
    };
  }

  private async metrics(res: ServerResponse): Promise<void> {
    const text = await this.deps.registry.metrics();
    res.writeHead(200, ['content-type', this.deps.registry.contentType, 'cache-control', 'no-store']);
    res.end(text);
  }

  private async changeUpstreams(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { action, url } = parse(upstreamChange, await readJson(req));
    const { upstreams } = this.deps;
    if (action === 'add' && !upstreams.add(url, 'admin'))
      return sendJsonError(res, 409, `upstream ${url} is already in the set`);
    if (action === 'remove' && !upstreams.remove(url))
      return sendJsonError(res, 404, `upstream ${url} is not in the set`);
    sendJson(res, action === 'add' ? 201 : 200, { action, url, upstreams: upstreams.all.map((u) => u.url) });
  }

  private async purge(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path } = parse(purgeRequest, await readJson(req));
    if (!this.deps.cache) return sendJsonError(res, 409, 'the edge cache is disabled (EDGE_CACHE_ENABLED=false)');
    sendJson(res, 200, { path, purged: this.deps.cache.purge(path) });
  }
}

export function sendJson(res: ServerResponse, statusCode: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(statusCode, [
    'content-type',
    'application/json; charset=utf-8',
    'cache-control',
    'no-store',
    'content-length',
    String(Buffer.byteLength(text)),
  ]);
  res.end(text);
}

export const badRequest = (message: string, statusCode = 400) => Object.assign(new Error(message), { statusCode });

export function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type))
      return reject(badRequest('send a JSON body (content-type: application/json)', 415));
    const tooLarge = () => badRequest(`request body exceeds ${MAX_ADMIN_BODY} bytes`, 413);
    if (Number(req.headers['content-length'] ?? 0) > MAX_ADMIN_BODY) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (c: Buffer) => {
      size += c.length;
      if (size <= MAX_ADMIN_BODY) return void chunks.push(c);
      // Not req.destroy(): that would close the socket before the 413 is written. The rest is discarded, and
      // the handler closes the connection after the answer.
      req.off('data', collect);
      req.resume();
      reject(tooLarge());
    };
    req.on('data', collect);
    req.on('error', reject);
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(badRequest('request body is not valid JSON'));
      }
    });
  });
}

export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw badRequest(`${issue.path.join('.') || 'body'}: ${issue.message}`);
}
