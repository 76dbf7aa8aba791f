import { ForbiddenException } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence for cookie sessions, per OWASP's "verify origin with standard headers" and Fetch
 * Metadata: a state-changing request from a browser must come from this site or an allowed origin.
 * Requests without Origin and Sec-Fetch-Site come from non-browser clients, which carry no victim's
 * cookies. Bodies are JSON-only (no form parser), so a plain HTML form cannot even be parsed.
 */
export function registerCrossSiteRequestGuard(fastify: FastifyInstance, config: AppConfig): void {
  const allowed = new Set(config.http.corsOrigins);
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (SAFE_METHODS.has(request.method)) return done();
    const verdict = crossSiteVerdict(request, allowed);
    done(verdict ? new ForbiddenException(`cross-site request refused: ${verdict}`) : undefined);
  });
}

/** Why the request must be refused, or undefined when it may proceed. */
export function crossSiteVerdict(
  request: Pick<FastifyRequest, 'headers' | 'protocol' | 'host'>,
  allowed: ReadonlySet<string>,
): string | undefined {
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  if (origin !== undefined) {
    // Behind the gateway, protocol and host come from X-Forwarded-Proto/-Host (trusted only from the gateway).
    if (origin === `${request.protocol}://${request.host}` || allowed.has(origin)) return undefined;
    return `origin ${origin === 'null' ? 'null (opaque)' : origin} is not allowed`;
  }
  if (site === 'cross-site' || site === 'same-site') return `Sec-Fetch-Site ${site} without an allowed Origin`;
  return undefined;
}
