import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { InjectMetrics } from '../../observability';

/** The most rows a scrape counts: the gauges read "at least this many" beyond it. */
export const OUTBOX_COUNT_CAP = 100_000;

/**
 * The outbox backlog in one statement ($1: OUTBOX_COUNT_CAP) whose cost stays bounded however large the backlog
 * grows (during a Redis outage, when the scrape matters most): the counts stop at the cap, and each part reads a
 * partial index (migration 1766000000000), not the table. `npm run bench:outbox` compares it with a full count.
 */
export const OUTBOX_BACKLOG_SQL = `
  SELECT (SELECT count(*) FROM (SELECT 1 FROM outbox WHERE dead_at IS NULL LIMIT $1) live)::int AS rows,
         (SELECT count(*) FROM (SELECT 1 FROM outbox WHERE dead_at IS NOT NULL LIMIT $1) dead)::int AS dead,
         coalesce(extract(epoch FROM now() - (SELECT min(created_at) FROM outbox WHERE dead_at IS NULL)), 0)::float8
           AS oldest`;

interface Backlog {
  readonly rows: number;
  readonly oldest: number;
  readonly dead: number;
}

/** How far the outbox is behind: rows not yet in BullMQ (grows while Redis is down) and the age of the oldest. */
@Injectable()
export class OutboxMetrics {
  private readonly logger = new Logger(OutboxMetrics.name);
  readonly relayed: Counter;
  readonly failures: Counter;
  readonly deadLettered: Counter<'queue'>;

  constructor(@InjectMetrics() registry: Registry, @InjectDataSource() dataSource: DataSource) {
    this.relayed = new Counter({
      name: 'outbox_relayed_total',
      help: 'Outbox rows handed to BullMQ by this instance',
      registers: [registry],
    });
    this.failures = new Counter({
      name: 'outbox_relay_failures_total',
      help: 'Outbox rows BullMQ refused on one attempt (each waits and is tried again, up to OUTBOX_MAX_ATTEMPTS)',
      registers: [registry],
    });
    this.deadLettered = new Counter({
      name: 'outbox_dead_letters_total',
      help: 'Outbox rows dead-lettered by this instance after OUTBOX_MAX_ATTEMPTS refusals (see GET /admin/outbox/dead)',
      labelNames: ['queue'],
      registers: [registry],
    });
    let backlog: Promise<Backlog> | undefined;
    // Every gauge comes from one query per scrape.
    const read = () =>
      (backlog ??= dataSource
        .query(OUTBOX_BACKLOG_SQL, [OUTBOX_COUNT_CAP])
        .then((r: Backlog[]) => r[0]!)
        .finally(() => setImmediate(() => (backlog = undefined))));
    const logger = this.logger;
    // One gauge per column of that query; a failed scrape (the database down) leaves them empty, logged once.
    const gauge = (name: string, help: string, pick: (b: Backlog) => number, logFailure = false) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          await read().then(
            (b) => this.set(pick(b)),
            (err: Error) => {
              if (logFailure) logger.debug(`outbox scrape failed: ${err.message}`);
              this.reset();
            },
          );
        },
      });
    gauge(
      'outbox_pending_rows',
      `Outbox rows committed but not yet in BullMQ (dead letters not included; counted up to ${OUTBOX_COUNT_CAP})`,
      (b) => b.rows,
      true,
    );
    gauge(
      'outbox_dead_rows',
      `Dead-lettered outbox rows, kept for an operator to inspect and retry (counted up to ${OUTBOX_COUNT_CAP})`,
      (b) => b.dead,
    );
    gauge(
      'outbox_oldest_row_age_seconds',
      'Age of the oldest outbox row not dead-lettered (0 when none)',
      (b) => b.oldest,
    );
  }
}
