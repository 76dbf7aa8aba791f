import { type OnApplicationBootstrap, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type AppConfig, InjectConfig } from '../../config';
import { ReadinessRegistry } from './readiness.registry';

const WINDOW_MS = 5_000;

/**
 * The instance's own trouble: an event loop that stalled past HEALTH_MAX_EVENT_LOOP_DELAY_MS within the last
 * 5 to 10 s. Such an instance answers everything late, so readiness 503 sends its traffic to the others.
 * Measured by libuv's delay histogram (perf_hooks), which costs nothing per request.
 */
@Injectable()
export class EventLoopReadiness implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly histogram = monitorEventLoopDelay({ resolution: 20 });
  private previousMaxMs = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly registry: ReadinessRegistry,
    private readonly indicators: HealthIndicatorService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.histogram.enable();
    this.timer = setInterval(() => this.rotate(), WINDOW_MS).unref();
    this.registry.register('eventLoop', () => this.check());
  }

  /** Start-up's own long synchronous work (module init, route registration) is not a stall to report. */
  onApplicationBootstrap(): void {
    this.histogram.reset();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }

  /** The worst delay of this window and the last one, in ms. */
  get recentMaxDelayMs(): number {
    return Math.max(this.previousMaxMs, this.histogram.max / 1e6);
  }

  private rotate(): void {
    this.previousMaxMs = this.histogram.max / 1e6;
    this.histogram.reset();
  }

  private async check() {
    const bound = this.config.health.maxEventLoopDelayMs;
    const check = this.indicators.check('eventLoop');
    const details = { maxDelayMs: Math.round(this.recentMaxDelayMs), boundMs: bound };
    return details.maxDelayMs > bound ? check.down({ ...details, message: 'event loop stalled' }) : check.up(details);
  }
}
