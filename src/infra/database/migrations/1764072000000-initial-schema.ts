import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764072000000 implements MigrationInterface {
  name = 'InitialSchema1764072000000';

  async up(q: QueryRunner): Promise<void> {
    // timestamptz(3): millisecond precision round-trips exactly through a JS Date, so keyset cursors never skip a row.
    await q.query(`
      CREATE TABLE users (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email         varchar(254) NOT NULL,
        password_hash text NOT NULL,
        display_name  varchar(100) NOT NULL,
        created_at    timestamptz(3) NOT NULL DEFAULT now(),
        updated_at    timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT users_email_key UNIQUE (email),
        CONSTRAINT users_email_lowercase CHECK (email = lower(email))
      )`);
    await q.query(`
      CREATE TABLE articles (
        id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        author_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        title                varchar(200) NOT NULL,
        body                 text NOT NULL,
        revision             integer NOT NULL DEFAULT 1,
        render_status        text NOT NULL DEFAULT 'pending',
        rendered_revision    integer,
        rendered_html        text,
        reading_time_minutes integer,
        render_error         text,
        rendered_at          timestamptz(3),
        created_at           timestamptz(3) NOT NULL DEFAULT now(),
        updated_at           timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT articles_title_not_blank CHECK (length(btrim(title)) > 0),
        CONSTRAINT articles_body_length CHECK (char_length(body) <= 100000),
        CONSTRAINT articles_render_status_valid CHECK (render_status IN ('pending', 'done', 'failed'))
      )`);
    // Newest-first keyset pagination reads this index in order.
    await q.query(`CREATE INDEX articles_created_at_id_idx ON articles (created_at DESC, id DESC)`);
    // Serves the author foreign key (cascading deletes) and per-author listings.
    await q.query(`CREATE INDEX articles_author_id_created_at_idx ON articles (author_id, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE articles`);
    await q.query(`DROP TABLE users`);
  }
}
