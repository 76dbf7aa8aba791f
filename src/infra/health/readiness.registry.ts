import { Injectable } from '@nestjs/common';
import type { HealthIndicatorResult } from '@nestjs/terminus';

export type ReadinessCheck = () => PromiseLike<HealthIndicatorResult>;

/**
 * Every dependency an instance needs to serve registers its check here (database nodes, Redis, the
 * queue), so readiness grows with the app without the health module importing any of them.
 */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(key: string, check: ReadinessCheck): void {
    if (this.checks.has(key)) throw new Error(`readiness check "${key}" is registered twice`);
    this.checks.set(key, check);
  }

  /** For dependencies that come and go while running (a database node removed from the node list). */
  unregister(key: string): void {
    this.checks.delete(key);
  }

  all(): ReadinessCheck[] {
    return [...this.checks.values()];
  }
}
