import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { ConfigError, loadConfig } from './config';
import { registerDatabaseRequestContext } from './infra/database';
import { installGracefulShutdown } from './infra/health';
import { configureHttp, createFastifyAdapter, registerCachePolicy } from './infra/http';
import { instrumentHttp, METRICS_REGISTRY } from './infra/observability';
import { registerQueueDashboard } from './infra/queue';
import { registerSessions } from './infra/session';
import { PageRenderer } from './modules/pages';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    createFastifyAdapter(config),
    {
      bufferLogs: true,
      // Fastify's own JSON parser is the only body parser: no form bodies (the classic CSRF vector), no text.
      bodyParser: false,
    },
  );
  const logger = app.get(Logger);
  app.useLogger(logger);
  installGracefulShutdown(app, logger, config);
  instrumentHttp(app.getHttpAdapter().getInstance(), app.get(METRICS_REGISTRY));
  const pages = app.get(PageRenderer);
  await configureHttp(app, config, { notFound: (status) => pages.errorHtml(status) });
  await registerSessions(app, config);
  await registerQueueDashboard(app, config);
  registerDatabaseRequestContext(app, {
    // Only a sign-in creates a session, so only signed-in requests carry read-your-writes.
    sessionIdOf: (request) => request.session?.id,
    debugHeaders: config.http.debugHeaders,
    readYourWritesTtlSeconds: config.db.readYourWritesTtlSeconds,
    redisDeadlineMs: config.redis.commandTimeoutMs,
  });
  registerCachePolicy(app.getHttpAdapter().getInstance(), config);
  await app.listen({ host: config.http.host, port: config.http.port });
  logger.log(`API instance ${config.instanceId} listening on http://${config.http.host}:${config.http.port}`);
}

bootstrap().catch((err: unknown) => {
  // A bad environment is an operator error: say which variable, without a stack trace.
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
