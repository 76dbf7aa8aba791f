import type { FastifyInstance } from 'fastify';
import type { AppConfig } from '../../config';

// Swagger UI's assets (@nestjs/swagger serves them with `public, max-age=0`); not the page or the documents.
const DOCS_ASSET = /^\/docs\/[\w.-]+\.(css|js|png|map)$/;

/**
 * Who may cache what, decided in one place and defaulting to "nobody": a response without its own
 * Cache-Control gets `no-store`, and any response that sets a cookie becomes `private, no-store`,
 * even a public asset, so no shared cache can hand one user's session to another. Registered after
 * the session plugin, whose rolling cookie is set in its own onSend hook.
 */
export function registerCachePolicy(fastify: FastifyInstance, config: AppConfig): void {
  const docsAssets = `public, max-age=${config.http.staticMaxAgeSeconds}`;
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (reply.hasHeader('set-cookie')) {
      reply.header('cache-control', 'private, no-store');
      reply.removeHeader('cdn-cache-control');
    } else if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    else if (reply.statusCode === 200 && DOCS_ASSET.test(request.url)) reply.header('cache-control', docsAssets);
    done(null, payload);
  });
}
