export { HealthModule } from './health.module';
export { installGracefulShutdown } from './graceful-shutdown';
export { ReadinessRegistry, type ReadinessCheck, type ReadinessOptions } from './readiness.registry';
export { DrainState } from './drain-state';
