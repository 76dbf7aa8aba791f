import pino from 'pino';
import { GatewayConfigError, loadGatewayConfig } from './config/gateway-config';
import { Gateway } from './gateway';

/** The gateway process: `node dist/gateway/main.js`. No Nest, nothing from the API's code. */
async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const log = pino({ level: config.logLevel, base: { service: 'gateway', pid: process.pid } });
  const gateway = await Gateway.start(config, log);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    gateway.shutdown().then(
      (drained) => {
        log.info(
          { drained },
          drained ? 'all in-flight requests finished; bye' : `gave up waiting after ${config.shutdownTimeoutMs} ms`,
        );
        log.flush();
        process.exit(drained ? 0 : 1);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

main().catch((err: unknown) => {
  // A bad environment is an operator error: name the variable, no stack trace.
  console.error(err instanceof GatewayConfigError ? err.message : err);
  process.exit(1);
});
