export { ObservabilityModule } from './observability.module';
export { LoggerModule, REDACTED_PATHS } from './logger.module';
export { METRICS_REGISTRY, InjectMetrics, createMetricsRegistry } from './metrics';
export { instrumentHttp } from './http-metrics';
export { OperationalEndpoint, OPERATIONAL_ENDPOINT } from './operational-endpoint.decorator';
