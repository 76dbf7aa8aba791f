import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import type { DataSource, EntityManager } from 'typeorm';
import { type AppConfig, InjectConfig } from '../../../config';
import { currentPrimaryLsn } from '../../database';
import { type RedisClient, withinDeadline } from '../../redis';
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
      const { claimed, error } = await this.relayBatch().catch((err: Error): BatchResult => ({
        claimed: 0,
        error: err,
      }));
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

  /**
   * One transaction on one connection: claim a small batch, hand it to BullMQ, delete what BullMQ accepted, and
   * keep what it refused, row by row, with the reason. A batch is a relay failure (back off) only when nothing in it
   * went through: one poisoned row among good ones is that row's problem, not the relay's.
   */
  private relayBatch(): Promise<BatchResult> {
    return this.dataSource.transaction(async (em) => {
      const rows = await em.query<OutboxRow[]>(
        `SELECT id, queue, job_name, payload FROM outbox
          WHERE dead_at IS NULL AND available_at <= now()
          ORDER BY available_at, created_at
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [this.config.outbox.batchSize],
      );
      if (rows.length === 0) return { claimed: 0 };
      // These rows are committed, so the primary's position now is past every write that caused them. Read on
      // this transaction's own connection: a second lease while holding this one deadlocks a pool of one.
      const { accepted, refused } = await this.publish(rows, await currentPrimaryLsn(this.dataSource, em));
      if (accepted.length) {
        await em.query(`DELETE FROM outbox WHERE id = ANY($1::uuid[])`, [accepted]);
        this.metrics.relayed.inc(accepted.length);
      }
      for (const [err, ids] of refused) await this.defer(em, ids, err);
      const error = accepted.length === 0 ? refused.keys().next().value : undefined;
      return { claimed: rows.length, error };
    });
  }

  /**
   * Each queue's rows in one addBulk; when BullMQ refuses a bulk, its rows one by one, so only the rows it refuses
   * stay behind (an unknown queue refuses all of its rows at once, with no call).
   */
  private async publish(
    rows: readonly OutboxRow[],
    minLsn: string,
  ): Promise<{ accepted: string[]; refused: Map<Error, string[]> }> {
    const accepted: string[] = [];
    const refused = new Map<Error, string[]>();
    const refuse = (err: Error, ids: string[]) => refused.set(err, [...(refused.get(err) ?? []), ...ids]);
    const byQueue = new Map<string, OutboxRow[]>();
    for (const row of rows) byQueue.set(row.queue, [...(byQueue.get(row.queue) ?? []), row]);
    for (const [name, batch] of byQueue) {
      const queue = this.queues.get(name);
      if (!queue) {
        refuse(
          new Error(`outbox row for unknown queue "${name}"`),
          batch.map((r) => r.id),
        );
        continue;
      }
      // The row's UUID is the jobId: BullMQ's dedupe turns a redelivery into a no-op.
      const job = (r: OutboxRow) => ({ name: r.job_name, data: { ...r.payload, minLsn }, opts: { jobId: r.id } });
      try {
        await queue.addBulk(batch.map(job));
        await this.replicated(queue);
        accepted.push(...batch.map((r) => r.id));
        continue;
      } catch (err) {
        // Unreachable Redis refuses every row alike: trying them one by one would only wait out each timeout.
        if (batch.length === 1 || !(await this.answers(queue))) {
          refuse(
            asError(err),
            batch.map((r) => r.id),
          );
          continue;
        }
      }
      for (const row of batch) {
        try {
          const { name: jobName, data, opts } = job(row);
          await queue.add(jobName, data, opts);
          await this.replicated(queue);
          accepted.push(row.id);
        } catch (err) {
          refuse(asError(err), [row.id]);
        }
      }
    }
    return { accepted, refused };
  }

  /** A PING within the command timeout: tells "Redis refused these rows" from "Redis is not there". */
  private async answers(queue: Queue): Promise<boolean> {
    try {
      await withinDeadline((await redisOf(queue)).ping(), this.config.redis.commandTimeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * WAIT 1 on the connection that added the jobs (WAIT counts only its own connection's writes): a master killed
   * before replicating them fails the WAIT, so the rows stay and are sent again (same jobIds) to the new master.
   * A WAIT that merely times out goes on: a missing replica must not stop the relay.
   */
  private async replicated(queue: Queue): Promise<void> {
    const { replicaWaitMs, commandTimeoutMs } = this.config.redis;
    if (replicaWaitMs === 0) return;
    const client = await redisOf(queue);
    const replicas = await withinDeadline(client.wait(1, replicaWaitMs), replicaWaitMs + commandTimeoutMs);
    if (replicas < 1) this.logger.warn(`jobs reached no Redis replica within ${replicaWaitMs} ms`);
  }

  /**
   * Refused rows wait (each by its own attempt count, exponentially) and say why; a row refused maxAttempts times
   * is dead-lettered: kept with its error for an operator (GET /admin/outbox/dead), never claimed again.
   */
  private async defer(em: EntityManager, ids: readonly string[], err: Error): Promise<void> {
    const { pollIntervalMs, maxBackoffMs, maxAttempts } = this.config.outbox;
    // TypeORM answers an UPDATE ... RETURNING with [rows, affected count].
    const [updated] = await em.query<[Array<{ id: string; queue: string; dead: boolean }>, number]>(
      `UPDATE outbox
          SET attempts = attempts + 1,
              last_error = $2,
              available_at = now() + least($3::float8 * power(2, attempts), $4::float8) * interval '1 millisecond',
              dead_at = CASE WHEN attempts + 1 >= $5 THEN now() END
        WHERE id = ANY($1::uuid[])
        RETURNING id, queue, dead_at IS NOT NULL AS dead`,
      [ids, err.message.slice(0, 1000), pollIntervalMs, maxBackoffMs, maxAttempts],
    );
    this.metrics.failures.inc(ids.length);
    for (const row of updated.filter((r) => r.dead)) {
      this.metrics.deadLettered.inc({ queue: row.queue });
      this.logger.error(
        `outbox row ${row.id} (queue "${row.queue}") dead-lettered after ${maxAttempts} refused attempts: ${err.message}`,
      );
    }
  }

  private noteFailure(err: Error): void {
    // A Redis outage repeats the same error every attempt; log each distinct one once.
    if (err.message === this.lastError) return;
    this.lastError = err.message;
    this.logger.warn(`outbox relay failed, backing off (rows stay in the outbox): ${err.message}`);
  }
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** BullMQ's client is its ioredis connection behind a proxy that forwards every ioredis command. */
const redisOf = async (queue: Queue): Promise<Pick<RedisClient, 'ping' | 'wait'>> =>
  (await queue.backend.client) as unknown as Pick<RedisClient, 'ping' | 'wait'>;
