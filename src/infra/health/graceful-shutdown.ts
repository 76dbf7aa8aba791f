import type { INestApplication, LoggerService } from '@nestjs/common';
import type { AppConfig } from '../../config';
import { DrainState } from './drain-state';

/**
 * SIGTERM/SIGINT: (1) readiness flips to 503, (2) wait until load balancers have seen it (at least their
 * check interval × fall), (3) close: stop accepting, finish in-flight requests, close pools and clients,
 * (4) exit 0. Nest's own enableShutdownHooks() skips (1)-(2) and re-raises the signal, which orchestrators
 * report as a crash.
 */
export function installGracefulShutdown(app: INestApplication, logger: LoggerService, config: AppConfig): void {
  const { drainDelayMs, timeoutMs } = config.shutdown;
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    app.get(DrainState).start();
    logger.log(`${signal}: readiness is 503; closing in ${drainDelayMs} ms`);
    setTimeout(() => {
      logger.error(`shutdown did not finish within ${timeoutMs} ms; exiting anyway`);
      process.exit(1);
    }, drainDelayMs + timeoutMs).unref();
    setTimeout(() => {
      app.close().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error(`shutdown failed: ${String(err)}`);
          process.exit(1);
        },
      );
    }, drainDelayMs);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
