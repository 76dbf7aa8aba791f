import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { InjectMetrics } from '../../observability';

/** How far the outbox is behind: rows not yet in BullMQ (grows while Redis is down) and the age of the oldest. */
@Injectable()
export class OutboxMetrics {
  private readonly logger = new Logger(OutboxMetrics.name);
  readonly relayed: Counter;
  readonly failures: Counter;

  constructor(@InjectMetrics() registry: Registry, @InjectDataSource() dataSource: DataSource) {
    this.relayed = new Counter({ name: 'outbox_relayed_total', help: 'Outbox rows handed to BullMQ by this instance', registers: [registry] });
    this.failures = new Counter({ name: 'outbox_relay_failures_total', help: 'Relay batches that BullMQ did not accept', registers: [registry] });
    let backlog: Promise<{ rows: number; oldest: number }> | undefined;
    // Both gauges come from one query per scrape.
    const read = () =>
      (backlog ??= dataSource
        .query(`SELECT count(*)::int AS rows, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest FROM outbox`)
        .then((r: Array<{ rows: number; oldest: number }>) => r[0]!)
        .finally(() => setImmediate(() => (backlog = undefined))));
    const logger = this.logger;
    new Gauge({
      name: 'outbox_pending_rows',
      help: 'Outbox rows committed but not yet in BullMQ',
      registers: [registry],
      async collect() {
        await read().then((b) => this.set(b.rows), (err: Error) => (logger.debug(`outbox scrape failed: ${err.message}`), this.reset()));
      },
    });
    new Gauge({
      name: 'outbox_oldest_row_age_seconds',
      help: 'Age of the oldest outbox row (0 when empty)',
      registers: [registry],
      async collect() {
        await read().then((b) => this.set(b.oldest), () => this.reset());
      },
    });
  }
}
