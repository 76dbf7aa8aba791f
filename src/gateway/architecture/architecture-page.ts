import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { type AdminRoute, parse, readJson, sendJson, upstreamChange } from '../admin/admin-api';
import type { AdminAuth } from '../admin/admin-auth';
import type { AdminSession } from '../admin/admin-session';
import { sendJsonError } from '../server/json-error';
import { ArchitectureObserver, type ObserverDeps } from './architecture-observer';
import { EventStream } from './event-stream';
import { PAGE_HTML } from './page/page-html';
import { PAGE_SCRIPT } from './page/page-script';
import { PAGE_STYLE } from './page/page-style';

const signIn = z.strictObject({ token: z.string().min(1).max(1024) });

// Everything the page loads is its own: no inline code, no other origin, no framing.
const PAGE_HEADERS = [
  'cache-control',
  'no-store',
  'x-content-type-options',
  'nosniff',
  'referrer-policy',
  'no-referrer',
  'x-frame-options',
  'DENY',
  'content-security-policy',
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
];

export interface ArchitecturePageDeps extends Omit<ObserverDeps, 'streams'> {
  readonly auth: AdminAuth;
  readonly session: AdminSession;
}

/**
 * `/_gateway/`: a page that draws the architecture as it runs, fed by one SSE stream of snapshots. The
 * observer scrapes only while at least one stream is open, so an unwatched gateway does no extra work.
 */
export class ArchitecturePage {
  readonly stream: EventStream;
  readonly observer: ArchitectureObserver;

  constructor(private readonly deps: ArchitecturePageDeps) {
    this.stream = new EventStream(deps.config.maxClients, {
      active: () => this.observer.start(),
      idle: () => this.observer.stop(),
    });
    this.observer = new ArchitectureObserver({ ...deps, streams: () => this.stream.size }, (snapshot) =>
      this.stream.send('snapshot', JSON.stringify(snapshot)),
    );
  }

  routes(): Record<string, AdminRoute> {
    const asset = (type: string, body: string): AdminRoute => ({
      access: 'open',
      method: 'GET',
      run: (_q, res) => sendAsset(res, type, body),
    });
    return {
      '': asset('text/html; charset=utf-8', PAGE_HTML),
      'architecture.css': asset('text/css; charset=utf-8', PAGE_STYLE),
      'architecture.js': asset('text/javascript; charset=utf-8', PAGE_SCRIPT),
      'architecture/session': {
        access: 'open',
        method: 'GET',
        run: (req, res, pub) => this.sessionState(req, res, pub),
      },
      'architecture/sign-in': { access: 'open', method: 'POST', run: (req, res, pub) => this.signIn(req, res, pub) },
      'architecture/sign-out': {
        access: 'open',
        method: 'POST',
        run: (_q, res) => noContent(res, ['set-cookie', this.deps.session.clear()]),
      },
      // Which workers the page reads: a stack that adds and drains workers (autoscaling) says so here.
      'architecture/workers': { access: 'write', method: 'POST', run: (req, res) => this.changeWorkers(req, res) },
      'architecture/events': {
        access: 'read',
        session: true,
        method: 'GET',
        run: (req, res) => this.stream.open(req, res),
      },
    };
  }

  /** Shutdown: end every stream first, or the open responses keep the listener from closing. */
  async close(): Promise<void> {
    this.stream.close();
    await this.observer.close();
  }

  private async changeWorkers(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { action, url } = parse(upstreamChange, await readJson(req));
    const { workers } = this.observer;
    if (action === 'add' && workers.has(url)) return sendJsonError(res, 409, `worker ${url} is already observed`);
    if (action === 'remove' && !workers.has(url)) return sendJsonError(res, 404, `worker ${url} is not observed`);
    if (action === 'add') workers.add(url);
    else workers.delete(url);
    sendJson(res, action === 'add' ? 201 : 200, { action, url, workers: [...workers] });
  }

  private sessionState(req: IncomingMessage, res: ServerResponse, publicListener: boolean): void {
    const { auth, session } = this.deps;
    const verdict = auth.check(req.headers.authorization, 'read', publicListener);
    if (!verdict.ok && verdict.statusCode === 404) return sendJsonError(res, 404, verdict.message);
    sendJson(res, 200, { signedIn: verdict.ok || session.verify(req.headers.cookie), tokenRequired: auth.hasToken });
  }

  private async signIn(req: IncomingMessage, res: ServerResponse, publicListener: boolean): Promise<void> {
    const { auth, session } = this.deps;
    // JSON only: a cross-site form cannot send it without a CORS preflight, which this gateway never grants.
    const { token } = parse(signIn, await readJson(req));
    const verdict = auth.check(`Bearer ${token}`, 'read', publicListener);
    if (!verdict.ok) return sendJsonError(res, verdict.statusCode, verdict.message);
    noContent(res, auth.hasToken ? ['set-cookie', session.issue()] : []);
  }
}

function sendAsset(res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, ['content-type', type, 'content-length', String(Buffer.byteLength(body)), ...PAGE_HEADERS]);
  res.end(body);
}

function noContent(res: ServerResponse, headers: string[]): void {
  res.writeHead(204, ['cache-control', 'no-store', ...headers]);
  res.end();
}
