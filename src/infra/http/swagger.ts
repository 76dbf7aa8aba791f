import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { AppConfig } from '../../config';
import { ADMIN_SECURITY } from './admin-credentials';

export const SESSION_SECURITY = 'session';

export function setupSwagger(app: INestApplication, config: AppConfig): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('zero-to-millions API')
      .setDescription(
        'Accounts and articles behind a gateway. Sign in with POST /auth/login: the browser keeps the session cookie, ' +
          'so "Try it out" on the protected routes works afterwards.',
      )
      .setVersion('1')
      // Swagger UI lists tags in this order: what a newcomer tries first, operations last.
      .addTag('auth', 'Accounts and cookie sessions (stored in Redis, so any instance serves any request)')
      .addTag('articles', 'Markdown articles: reads from replicas, writes to the primary')
      .addTag('jobs', 'Background jobs (rendering) as the queue sees them')
      .addTag('health', 'Liveness and readiness, as load balancers and orchestrators see them')
      .addTag('observability', 'Prometheus metrics of this instance')
      .addTag('admin', 'Dead letters and their retry (Bearer ADMIN_TOKEN)')
      .addCookieAuth(
        config.session.cookieName,
        { type: 'apiKey', in: 'cookie', name: config.session.cookieName },
        SESSION_SECURITY,
      )
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' }, ADMIN_SECURITY)
      .build(),
  );
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    yamlDocumentUrl: 'docs-yaml',
    swaggerOptions: { persistAuthorization: true, withCredentials: true },
  });
}
