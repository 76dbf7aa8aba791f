import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dead letters in the outbox: a row BullMQ refused OUTBOX_MAX_ATTEMPTS times (an unknown queue, a payload it
 * rejects) is kept with its error and never claimed again, so it cannot hold the relay or its batch back.
 */
export class OutboxDeadLetters1765000000000 implements MigrationInterface {
  name = 'OutboxDeadLetters1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox ADD COLUMN dead_at timestamptz(3)`);
    // The relay claims only live rows: the index leaves the dead ones out.
    await q.query(`DROP INDEX outbox_available_at_idx`);
    await q.query(`CREATE INDEX outbox_available_at_idx ON outbox (available_at, created_at) WHERE dead_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX outbox_available_at_idx`);
    await q.query(`CREATE INDEX outbox_available_at_idx ON outbox (available_at, created_at)`);
    await q.query(`ALTER TABLE outbox DROP COLUMN dead_at`);
  }
}
