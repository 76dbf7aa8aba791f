import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { Eta } from 'eta';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AppConfig, InjectConfig } from '../../config';

// The repository's views/ folder, from src/modules/pages (tests) and dist/modules/pages (built) alike.
export const VIEWS_ROOT = join(__dirname, '..', '..', '..', 'views');

export type PageTemplate = 'front' | 'article' | 'error';

/**
 * Renders reader pages with Eta (escapes every `<%= %>`; `<%~ %>` is used once, for the worker's sanitized HTML)
 * and decides who may cache them. The edge cache keys on path and query, plus the Cookie header because every
 * page says `Vary: Cookie`: an anonymous request (no cookie) gets `public, s-maxage` and shares one copy with every
 * other anonymous reader, while a request with a cookie gets a `private` answer, fresh from the database with its
 * session's read-your-writes, which no shared cache stores. The ETag is a digest of the page's data and of the
 * templates, so a conditional request is answered 304 without rendering.
 */
@Injectable()
export class PageRenderer {
  private readonly eta = new Eta({ views: VIEWS_ROOT, cache: true, autoEscape: true });
  /** Changes with any template, so a deploy with new markup never matches an old ETag. */
  private readonly templatesDigest = digestOfTemplates();
  private readonly publicCacheControl: string;
  private readonly edgeCacheControl: string;

  constructor(@InjectConfig() config: AppConfig) {
    const { cacheSeconds, staleSeconds } = config.pages;
    // Browsers revalidate every time (a cheap 304 from the edge), so a purge reaches them too.
    this.publicCacheControl = `public, max-age=0, s-maxage=${cacheSeconds}`;
    // The edge alone (RFC 9213 CDN-Cache-Control) may serve a stale copy while it refreshes, or while the origin fails.
    this.edgeCacheControl = `public, s-maxage=${cacheSeconds}, stale-while-revalidate=${staleSeconds}, stale-if-error=${staleSeconds}`;
  }

  /** Sends the page, or 304 when the request already holds this exact page. */
  send(request: FastifyRequest, reply: FastifyReply, template: PageTemplate, data: object, status = 200): string {
    const etag = `"${createHash('sha256')
      .update(this.templatesDigest)
      .update(template)
      .update(JSON.stringify(data))
      .digest('base64url')
      .slice(0, 27)}"`;
    const shared = sharedAtTheEdge(request) && status < 500;
    void reply
      .header('vary', 'Cookie')
      .header('cache-control', shared ? this.publicCacheControl : 'private, no-cache')
      .header('etag', etag)
      .type('text/html; charset=utf-8');
    if (shared) void reply.header('cdn-cache-control', this.edgeCacheControl);
    if (status === 200 && matches(request.headers['if-none-match'], etag)) {
      void reply.code(304);
      return '';
    }
    void reply.code(status);
    return this.eta.render(template, data);
  }

  /** The error page alone, for a request no page route matched. */
  errorHtml(status: number): string {
    return this.eta.render('error', errorPage(status));
  }
}

/** An anonymous request (no cookie): its page is the one every anonymous reader shares at the edge. */
export const sharedAtTheEdge = (request: FastifyRequest): boolean => request.headers.cookie === undefined;

/** RFC 9110 §13.1.2: a list of entity tags (weak comparison), or `*`. */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

function digestOfTemplates(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(VIEWS_ROOT).sort()) hash.update(file).update(readFileSync(join(VIEWS_ROOT, file)));
  return hash.digest('base64url');
}

export function errorPage(status: number): { heading: string; message: string } {
  if (status === 404) return { heading: 'Page not found', message: 'There is no page at this address.' };
  return { heading: 'That did not work', message: 'The link or the request is not valid.' };
}
