/**
 * The cost of the outbox gauges on one /metrics scrape (every instance runs it on every scrape) while the outbox
 * holds a backlog, as it does during a Redis outage: the scrape's statement (OUTBOX_BACKLOG_SQL, capped counts over
 * partial indexes) against the full-table count it replaced (the reference), on the same table, in alternating
 * rounds.
 *
 *   npm run bench:outbox                          # defaults: backlogs of 0, 100k and 1M rows, 15 rounds each
 *   BENCH_BACKLOGS=0,2000000 BENCH_ROUNDS=30 npm run bench:outbox
 *
 * The schema is the app's, made by its own migrations. Printed per backlog: the median statement time of each side
 * and their ratio (reference / scrape: how many times cheaper the scrape is).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { startPostgresCluster } from '../tools/stack/postgres-cluster';
import { freePort } from '../tools/stack/ports';

// The code the API runs: tsc's output in dist/ (npm run build); types come from src/.
const { OUTBOX_BACKLOG_SQL, OUTBOX_COUNT_CAP } =
  require('../dist/infra/queue/outbox/outbox.metrics.js') as typeof import('../src/infra/queue/outbox/outbox.metrics');
const { MIGRATIONS } =
  require('../dist/infra/database/typeorm-options.js') as typeof import('../src/infra/database/typeorm-options');

const BACKLOGS = (process.env.BENCH_BACKLOGS ?? '0,100000,1000000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);

/** What every scrape ran before migration 1766000000000: one pass over the whole table. */
const FULL_COUNT_SQL = `
  SELECT count(*) FILTER (WHERE dead_at IS NULL)::int AS rows,
         count(*) FILTER (WHERE dead_at IS NOT NULL)::int AS dead,
         coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE dead_at IS NULL)), 0)::float8 AS oldest
    FROM outbox`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timeMs(db: DataSource, sql: string, params: unknown[]): Promise<number> {
  const started = process.hrtime.bigint();
  await db.query(sql, params);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'z2m-bench-outbox-'));
  const port = await freePort();
  console.log(`starting PostgreSQL in ${dir} ...`);
  const cluster = await startPostgresCluster({ dir, primaryPort: port, replicaPorts: [], fast: true });
  const db = await new DataSource({ type: 'postgres', url: cluster.primary.url(), migrations: MIGRATIONS })
    .initialize()
    .catch(async (err: unknown) => {
      await cluster.stop();
      throw err;
    });
  try {
    await db.runMigrations();
    const rows: string[] = [];
    let inserted = 0;
    for (const backlog of BACKLOGS) {
      if (backlog > inserted) {
        await db.query(
          `INSERT INTO outbox (queue, job_name, payload, created_at)
             SELECT 'render', 'render', jsonb_build_object('articleId', gen_random_uuid()), now() - g * interval '1 ms'
               FROM generate_series(1, $1) g`,
          [backlog - inserted],
        );
        inserted = backlog;
        await db.query('VACUUM ANALYZE outbox');
      }
      const times = { reference: [] as number[], scrape: [] as number[] };
      for (let i = 0; i < ROUNDS + 2; i++) {
        // Alternate which side goes first; the first two rounds warm the cache and are not counted.
        const order = i % 2 ? (['scrape', 'reference'] as const) : (['reference', 'scrape'] as const);
        for (const side of order) {
          const ms =
            side === 'scrape'
              ? await timeMs(db, OUTBOX_BACKLOG_SQL, [OUTBOX_COUNT_CAP])
              : await timeMs(db, FULL_COUNT_SQL, []);
          if (i >= 2) times[side].push(ms);
        }
      }
      const [ref, scrape] = [median(times.reference), median(times.scrape)];
      rows.push(
        `${String(backlog).padStart(10)}  ${ref.toFixed(2).padStart(14)}  ${scrape.toFixed(2).padStart(11)}  ${(ref / scrape).toFixed(1).padStart(6)}x`,
      );
    }
    console.log(`\noutbox gauges per /metrics scrape, median of ${ROUNDS} rounds (ms)`);
    console.log('   backlog  full count (ref)       scrape   ratio');
    for (const row of rows) console.log(row);
  } finally {
    await db.destroy();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
