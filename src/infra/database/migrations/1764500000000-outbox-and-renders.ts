import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The transactional outbox, the per-revision render record, and the article's link to its render job. */
export class OutboxAndRenders1764500000000 implements MigrationInterface {
  name = 'OutboxAndRenders1764500000000';

  async up(q: QueryRunner): Promise<void> {
    // A row here commits with the business write it belongs to; the relay moves it into BullMQ and deletes it.
    // Its random UUID becomes the BullMQ jobId, so ids never repeat after a database reset (a sequence would).
    await q.query(`
      CREATE TABLE outbox (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        queue        text NOT NULL,
        job_name     text NOT NULL,
        payload      jsonb NOT NULL,
        attempts     integer NOT NULL DEFAULT 0,
        last_error   text,
        created_at   timestamptz(3) NOT NULL DEFAULT now(),
        available_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    // The relay claims the oldest available rows first.
    await q.query(`CREATE INDEX outbox_available_at_idx ON outbox (available_at, created_at)`);

    // One row per applied render effect; the primary key makes a second application of the same revision impossible.
    await q.query(`
      CREATE TABLE article_renders (
        article_id           uuid NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
        revision             integer NOT NULL,
        job_id               text NOT NULL,
        worker               text NOT NULL,
        reading_time_minutes integer NOT NULL,
        rendered_at          timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (article_id, revision)
      )`);

    await q.query(`ALTER TABLE articles ADD COLUMN render_job_id uuid`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE articles DROP COLUMN render_job_id`);
    await q.query(`DROP TABLE article_renders`);
    await q.query(`DROP TABLE outbox`);
  }
}
