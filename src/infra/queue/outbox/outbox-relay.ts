import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { type AppConfig, InjectConfig } from '../../../config';
import { currentPrimaryLsn } from '../../database';
import { QueueRegistry } from '../queue-registry';
import type { OutboxRow } from './outbox-message';
import { OutboxMetrics } from './outbox.metrics';
import { relayBackoffMs, WakeableSleep } from './relay-backoff';

type BatchResult = { readonly claimed: number; readonly error?: Error };

/**
 * Moves committed outbox rows into BullMQ. Runs in every API instance: several relays never send the same
 * row at once (FOR UPDATE SKIP LOCKED), and jobs reach the queue even while no worker runs, so a depth-based
 * autoscaler (KEDA) can start workers from zero. A row is deleted only after BullMQ accepted its job; a crash
 * in between sends it again with the same jobId, which BullMQ ignores while the job is retained.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly sleeper = new WakeableSleep();
  private running = false;
  private loop?: Promise<void>;
  private failures = 0;
  private lastError = '';

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queues: QueueRegistry,
    private readonly metrics: OutboxMetrics,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.outbox.relayEnabled) return;
    this.running = true;
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.sleeper.wake();
    await this.loop;
  }

  /** A transaction that wrote to the outbox committed: relay now instead of at the next poll. */
  wake(): void {
    // While failing, keep the backoff: a write per millisecond must not become a Redis attempt per millisecond.
    if (this.failures === 0) this.sleeper.wake();
  }

  private async run(): Promise<void> {
    const { pollIntervalMs, batchSize, maxBackoffMs } = this.config.outbox;
    while (this.running) {
      const { claimed, error } = await this.relayBatch().catch((err: Error): BatchResult => ({ claimed: 0, error: err }));
      if (error) {
        this.failures += 1;
        this.noteFailure(error);
        await this.sleeper.sleep(relayBackoffMs(this.failures, pollIntervalMs, maxBackoffMs));
        continue;
      }
      if (this.failures > 0) this.logger.log(`relaying again after ${this.failures} failed attempt(s)`);
      this.failures = 0;
      this.lastError = '';
      // A full batch means more rows are waiting: go on without pausing.
      if (claimed < batchSize) await this.sleeper.sleep(pollIntervalMs);
    }
  }

  /** One transaction: claim a small batch, hand it to BullMQ, delete it; or keep it with the reason it failed. */
  private relayBatch(): Promise<BatchResult> {
    return this.dataSource.transaction(async (em) => {
      const rows = (await em.query(
        `SELECT id, queue, job_name, payload FROM outbox
          WHERE available_at <= now()
          ORDER BY available_at, created_at
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [this.config.outbox.batchSize],
      )) as OutboxRow[];
      if (rows.length === 0) return { claimed: 0 };
      const ids = rows.map((r) => r.id);
      try {
        // These rows are committed, so the primary's position now is past every write that caused them.
        await this.publish(rows, await currentPrimaryLsn(this.dataSource));
      } catch (err) {
        await this.defer(em, ids, err as Error);
        return { claimed: rows.length, error: err as Error };
      }
      await em.query(`DELETE FROM outbox WHERE id = ANY($1::uuid[])`, [ids]);
      this.metrics.relayed.inc(rows.length);
      return { claimed: rows.length };
    });
  }

  private async publish(rows: readonly OutboxRow[], minLsn: string): Promise<void> {
    const byQueue = new Map<string, OutboxRow[]>();
    for (const row of rows) byQueue.set(row.queue, [...(byQueue.get(row.queue) ?? []), row]);
    for (const [name, batch] of byQueue) {
      const queue = this.queues.get(name);
      if (!queue) throw new Error(`outbox row for unknown queue "${name}"`);
      // The row's UUID is the jobId: BullMQ's dedupe turns a redelivery into a no-op.
      await queue.addBulk(batch.map((r) => ({ name: r.job_name, data: { ...r.payload, minLsn }, opts: { jobId: r.id } })));
    }
  }

  /** Rows that could not be sent wait (per row, exponentially) and say why, so one bad row cannot block the others. */
  private async defer(em: EntityManager, ids: readonly string[], err: Error): Promise<void> {
    const { pollIntervalMs, maxBackoffMs } = this.config.outbox;
    await em.query(
      `UPDATE outbox
          SET attempts = attempts + 1,
              last_error = $2,
              available_at = now() + least($3::float8 * power(2, attempts), $4::float8) * interval '1 millisecond'
        WHERE id = ANY($1::uuid[])`,
      [ids, err.message.slice(0, 1000), pollIntervalMs, maxBackoffMs],
    );
    this.metrics.failures.inc();
  }

  private noteFailure(err: Error): void {
    // A Redis outage repeats the same error every attempt; log each distinct one once.
    if (err.message === this.lastError) return;
    this.lastError = err.message;
    this.logger.warn(`outbox relay failed, backing off (rows stay in the outbox): ${err.message}`);
  }
}
