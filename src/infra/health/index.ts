export { HealthModule } from './health.module';
export { installGracefulShutdown } from './graceful-shutdown';
