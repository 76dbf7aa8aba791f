import { Pool } from 'undici';
import type { GatewayConfig } from '../config/gateway-config';
import { HealthState, type HealthStatus, type HealthTransition } from './health-state';
import { OutlierEjection } from './outlier-ejection';

export type FailureKind = 'connect' | 'timeout' | 'reset';

/** One API instance behind the gateway: its keep-alive connection pool, health and counters. */
export class Upstream {
  readonly pool: Pool;
  readonly health: HealthState;
  readonly ejection: OutlierEjection;
  /** Readiness answered "draining": no new requests; in-flight ones finish. */
  draining = false;
  inFlight = 0;
  requests = 0;
  readonly failures: Record<FailureKind, number> = { connect: 0, timeout: 0, reset: 0 };
  checks = { ok: 0, failed: 0 };
  lastCheck?: { readonly at: number; readonly ok: boolean; readonly detail: string };
  /** Set by UpstreamSet when this upstream's availability may have changed. */
  onChange: () => void = () => undefined;

  constructor(
    /** http://host:port, the upstream's identity in the set, the admin API and the metrics. */
    readonly url: string,
    config: Pick<GatewayConfig, 'upstream' | 'health' | 'ejection'>,
  ) {
    const { connections, connectTimeoutMs, responseTimeoutMs, idleTimeoutMs } = config.upstream;
    this.pool = new Pool(url, {
      connections,
      pipelining: 1,
      connectTimeout: connectTimeoutMs,
      headersTimeout: responseTimeoutMs,
      bodyTimeout: responseTimeoutMs,
      keepAliveTimeout: idleTimeoutMs,
      // A server's Keep-Alive hint may shorten our idle timeout, never lengthen it past the configured one.
      keepAliveMaxTimeout: idleTimeoutMs,
    });
    this.health = new HealthState(config.health.rise, config.health.fall);
    this.ejection = new OutlierEjection(config.ejection.baseMs, config.ejection.maxMs);
  }

  /** In rotation: healthy by active checks, not draining, not ejected by passive outlier detection. */
  available(now: number): boolean {
    return this.health.status === 'up' && !this.draining && !this.ejection.isEjected(now);
  }

  get status(): HealthStatus | 'draining' | 'ejected' {
    if (this.draining) return 'draining';
    if (this.health.status === 'up' && this.ejection.isEjected(Date.now())) return 'ejected';
    return this.health.status;
  }

  /** One active check result; a rise back to `up` also ends a passive ejection and a drain. */
  recordCheck(ok: boolean, detail: string, draining = false): HealthTransition | undefined {
    const now = Date.now();
    this.lastCheck = { at: now, ok, detail };
    if (ok) this.checks.ok++;
    else this.checks.failed++;
    let transition: HealthTransition | undefined;
    if (draining) {
      transition = this.health.markDown();
      this.draining = true;
    } else {
      transition = this.health.record(ok);
      if (transition?.to === 'up') {
        this.draining = false;
        this.ejection.clear(now);
      }
    }
    if (transition || draining) this.onChange();
    return transition;
  }

  /** A live request failed to connect or timed out: eject now (Envoy outlier detection). */
  recordFailure(kind: FailureKind): number {
    this.failures[kind]++;
    const ms = this.ejection.eject(Date.now());
    if (ms > 0) this.onChange();
    return ms;
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  toJSON(): Record<string, unknown> {
    const now = Date.now();
    return {
      url: this.url,
      status: this.status,
      available: this.available(now),
      inFlight: this.inFlight,
      requests: this.requests,
      failures: { ...this.failures },
      ejections: this.ejection.ejections,
      ejectedForMs: this.ejection.remainingMs(now),
      checks: {
        ...this.checks,
        consecutiveSuccesses: this.health.consecutiveSuccesses,
        consecutiveFailures: this.health.consecutiveFailures,
      },
      lastCheck: this.lastCheck && { ...this.lastCheck, at: new Date(this.lastCheck.at).toISOString() },
    };
  }
}
