import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '../../config';
import { registerCrossSiteRequestGuard } from './cross-site-requests';
import { type HtmlErrorPage, HttpExceptionFilter } from './http-exception.filter';
import { registerResponseHeaders } from './http-hooks';
import { registerSecurityHeaders, SECURITY_HEADERS } from './security-headers';
import { registerStaticAssets } from './static-assets';
import { setupSwagger } from './swagger';
import { RequestValidationPipe } from './validation.pipe';

/** Everything HTTP-wide: security headers, response stamps, validation, the error shape and the API docs. */
export async function configureHttp(
  app: NestFastifyApplication,
  config: AppConfig,
  pages: { notFound?: HtmlErrorPage } = {},
): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  registerResponseHeaders(fastify, config);
  // JSON is the only body this API reads; anything else is a 415, not a string handed to validation.
  fastify.removeContentTypeParser('text/plain');
  registerCrossSiteRequestGuard(fastify, config);
  // Credentialed CORS only for configured origins; with none configured, no CORS headers at all.
  app.enableCors({
    origin: config.http.corsOrigins.length ? [...config.http.corsOrigins] : false,
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['content-type', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
  });
  registerSecurityHeaders(fastify, SECURITY_HEADERS);
  app.useGlobalPipes(new RequestValidationPipe());
  app.useGlobalFilters(new HttpExceptionFilter(pages.notFound));
  setupSwagger(app, config);
  await registerStaticAssets(app, config);

  const server = app.getHttpServer();
  // Node requires headersTimeout above keepAliveTimeout, or idle keep-alive sockets are cut mid-request.
  server.headersTimeout = config.http.keepAliveTimeoutMs + 1000;
}
