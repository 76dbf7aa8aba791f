import type { INestApplication, LoggerService } from '@nestjs/common';

/**
 * SIGTERM/SIGINT close the app (Nest's shutdown hooks close pools and clients) and exit 0. Nest's own
 * enableShutdownHooks() re-raises the signal after closing, which orchestrators report as a crash.
 */
export function installGracefulShutdown(app: INestApplication, logger: LoggerService, deadlineMs = 30_000): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal} received: closing`);
    setTimeout(() => {
      logger.error(`shutdown did not finish within ${deadlineMs} ms; exiting anyway`);
      process.exit(1);
    }, deadlineMs).unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error(`shutdown failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
