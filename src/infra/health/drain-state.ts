import { Injectable } from '@nestjs/common';

/** Set once SIGTERM arrives: readiness answers 503 from then on, so load balancers stop sending. */
@Injectable()
export class DrainState {
  private since?: number;

  get draining(): boolean {
    return this.since !== undefined;
  }

  start(): void {
    this.since ??= Date.now();
  }
}
