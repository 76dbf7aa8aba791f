import type { INestApplicationContext, LoggerService } from '@nestjs/common';
import type { AppConfig } from '../../../config';
import { DrainState } from '../../health';
import { QueueConsumers } from '../consumer/queue-consumers';

/**
 * SIGTERM/SIGINT: readiness turns 503, consumers stop taking jobs and finish the active ones until
 * WORKER_DRAIN_TIMEOUT_MS, then put the rest back in the queue; then close and exit 0. A worker that hangs
 * anyway is ended after SHUTDOWN_TIMEOUT_MS more; its jobs come back through stalled-job recovery.
 */
export function installWorkerShutdown(app: INestApplicationContext, logger: LoggerService, config: AppConfig): void {
  const { drainTimeoutMs } = config.worker;
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    app.get(DrainState).start();
    logger.log(`${signal}: taking no new jobs; finishing active ones within ${drainTimeoutMs} ms`);
    setTimeout(() => {
      logger.error(`shutdown did not finish in time; exiting (unfinished jobs return through stalled-job recovery)`);
      process.exit(1);
    }, drainTimeoutMs + config.shutdown.timeoutMs).unref();
    void (async () => {
      try {
        const { requeued } = await app.get(QueueConsumers).drain(drainTimeoutMs);
        logger.log(`drained: ${requeued} unfinished job(s) put back in the queue`);
        await app.close();
        process.exit(0);
      } catch (err) {
        logger.error(`shutdown failed: ${String(err)}`);
        process.exit(1);
      }
    })();
  };
  // `on`, not `once`: a second SIGTERM during the drain (a stop sent twice) is ignored, not the default kill.
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
