import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { ConfigError, loadConfig } from './config';
import { installWorkerShutdown } from './infra/queue';
import { WorkerModule } from './worker.module';

/** A worker instance: a Nest application context (no HTTP framework) running the queue consumers. */
async function bootstrap(): Promise<void> {
  const config = loadConfig(process.env, 'worker');
  // Initialised on return: the consumers and the health/metrics listener are running.
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { bufferLogs: true });
  const logger = app.get(Logger);
  app.useLogger(logger);
  installWorkerShutdown(app, logger, config);
  logger.log(`worker ${config.instanceId} running (health and metrics on port ${config.worker.httpPort})`);
}

bootstrap().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
