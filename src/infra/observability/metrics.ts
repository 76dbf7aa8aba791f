import { Inject } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';

export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/**
 * Injects this process's prom-client Registry. Metrics are created where they are measured, e.g.
 * `new Counter({ name: 'cache_requests_total', help, labelNames, registers: [registry] })`.
 */
export const InjectMetrics = (): ParameterDecorator => Inject(METRICS_REGISTRY);

// A dedicated registry, never prom-client's global one: tests and multiple apps in one process stay apart.
export function createMetricsRegistry(labels: Record<string, string>): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  return registry;
}
