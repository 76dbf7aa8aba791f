import { Injectable } from '@nestjs/common';
import type { HealthIndicatorResult } from '@nestjs/terminus';

export type ReadinessCheck = () => PromiseLike<HealthIndicatorResult>;

export interface ReadinessOptions {
  /**
   * Set for a dependency every instance shares (the primary, Redis): what still works while it is down. Its outage
   * then reports `degraded` (HTTP 200) with this text, never `down`: a readiness check on a shared dependency
   * would take every instance out of rotation at once, the correlated-failure trap.
   */
  readonly whenDown?: string;
}

/**
 * Every dependency an instance needs to serve registers its check here (database nodes, Redis, the
 * queue), so readiness grows with the app without the health module importing any of them. Only checks
 * registered without `whenDown` (the instance's own trouble) can make readiness 503.
 */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(key: string, check: ReadinessCheck, options: ReadinessOptions = {}): void {
    if (this.checks.has(key)) throw new Error(`readiness check "${key}" is registered twice`);
    const { whenDown } = options;
    this.checks.set(key, whenDown === undefined ? check : () => degradeWhenDown(key, check, whenDown));
  }

  /** For dependencies that come and go while running (a database node removed from the node list). */
  unregister(key: string): void {
    this.checks.delete(key);
  }

  all(): ReadinessCheck[] {
    return [...this.checks.values()];
  }
}

async function degradeWhenDown(key: string, check: ReadinessCheck, impact: string): Promise<HealthIndicatorResult> {
  let result: HealthIndicatorResult;
  try {
    result = await check();
  } catch (err) {
    result = { [key]: { status: 'down', message: err instanceof Error ? err.message : String(err) } };
  }
  const own = result[key];
  if (own?.status !== 'down') return result;
  return { ...result, [key]: { ...own, status: 'degraded', impact } };
}
