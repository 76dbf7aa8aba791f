/**
 * The read path's cost: TypeORM's built-in replication (`replication: { master, slaves }`, a Math.random
 * pick per read) against the routing DataSource (topology-aware pick, retry wrapper, request context,
 * metrics hook) on the same primary + 2 replicas, in the same process and run, in alternating rounds.
 *
 *   npm run bench:replicas                      # defaults: 40 rounds of 2000 reads per side, 16 concurrent
 *   BENCH_ROUNDS=100 BENCH_READS=5000 BENCH_CONCURRENCY=32 npm run bench:replicas
 *
 * One "read" is `repository.findOneBy({ id })` of a random row (a SelectQueryBuilder on a 'slave' runner), as a
 * request would do it; the routing side runs each read in its own request context (AsyncLocalStorage), as the
 * API does. Both sides use pools of the same size and the same pg driver. Printed: reads/s and client CPU per
 * read (the process's user+system time / reads: the routing overhead itself, free of PostgreSQL's share).
 * Rounds are short and rotate the order of the sides, and each side's round is compared with the reference
 * round next to it: on a shared machine the load drifts, and only side-by-side ratios survive that.
 */
import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { DataSource, EntitySchema, type Repository } from 'typeorm';
import { startPostgresCluster } from '../tools/stack/postgres-cluster';
import { freePort } from '../tools/stack/ports';

// The code the API runs: tsc's output in dist/ (npm run build), not tsx's on-the-fly transpile of src/, which adds
// keepNames helpers to every function; types still come from src/.
const { DbRequest, runInDbRequest } =
  require('../dist/infra/database/consistency/db-context.js') as typeof import('../src/infra/database/consistency/db-context');
const { createRoutingDataSource } =
  require('../dist/infra/database/routing/routing-data-source.js') as typeof import('../src/infra/database/routing/routing-data-source');

const READS = Number(process.env.BENCH_READS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const ROWS = 10_000;
const POOL = 10;

interface Item {
  id: number;
  name: string;
  payload: string;
}
const ItemSchema = new EntitySchema<Item>({
  name: 'BenchItem',
  tableName: 'bench_items',
  columns: { id: { type: 'int', primary: true }, name: { type: 'text' }, payload: { type: 'text' } },
});

type Runner = (read: () => Promise<unknown>) => Promise<unknown>;

async function round(
  repo: Repository<Item>,
  wrap: Runner,
  reads: number,
): Promise<{ perSecond: number; cpuMicros: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < reads) await wrap(() => repo.findOneBy({ id: 1 + Math.floor(Math.random() * ROWS) }));
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { perSecond: reads / seconds, cpuMicros: (used.user + used.system) / reads };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  Logger.overrideLogger(['error']);
  const dir = mkdtempSync(join(tmpdir(), 'z2m-bench-'));
  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  console.log(`starting PostgreSQL primary + 2 replicas in ${dir} ...`);
  const cluster = await startPostgresCluster({
    dir,
    primaryPort: ports[0],
    replicaPorts: [ports[1], ports[2]],
    fast: true,
  });
  try {
    await cluster.primary.query(
      `CREATE TABLE bench_items (id int PRIMARY KEY, name text NOT NULL, payload text NOT NULL)`,
    );
    await cluster.primary.query(
      `INSERT INTO bench_items SELECT g, 'item ' || g, repeat('x', 200) FROM generate_series(1, ${ROWS}) g`,
    );
    await cluster.primary.query('CHECKPOINT');
    const [primaryUrl, ...replicaUrls] = cluster.nodes.map((n) => n.url());
    for (const r of cluster.replicas) {
      while (
        Number(
          (await r.query<{ n: string }>('SELECT count(*) AS n FROM bench_items').catch(() => [{ n: '0' }]))[0]!.n,
        ) < ROWS
      ) {
        await new Promise((res) => setTimeout(res, 100));
      }
    }

    const builtIn = await new DataSource({
      type: 'postgres',
      replication: { master: { url: primaryUrl }, slaves: replicaUrls.map((url) => ({ url })) },
      entities: [ItemSchema],
      extra: { max: POOL },
    }).initialize();
    const metrics = new Registry();
    const routing = await createRoutingDataSource({
      type: 'postgres',
      database: 'app',
      entities: [ItemSchema],
      routing: {
        nodes: cluster.nodes.map((n) => ({ name: n.name, url: n.url() })),
        applicationName: 'bench',
        poolSize: POOL,
        connectTimeoutMs: 2000,
        queryTimeoutMs: 5000,
        intervalMs: 1000,
        maxLagMs: 5000,
        maxLagBytes: 16 * 1024 * 1024,
        readStrategy: 'least-busy',
        metrics,
      },
    }).initialize();

    const sides: Array<{ name: string; repo: Repository<Item>; wrap: Runner }> = [
      { name: 'TypeORM replication (Math.random)', repo: builtIn.getRepository(ItemSchema), wrap: (read) => read() },
      {
        name: 'routing DataSource',
        repo: routing.getRepository(ItemSchema),
        wrap: (read) => runInDbRequest(new DbRequest(), read),
      },
      {
        name: 'routing, session read (caught up)',
        repo: routing.getRepository(ItemSchema),
        // A session whose last write every replica has replayed; its lookup is free here (Redis is measured apart).
        wrap: (read) => runInDbRequest(new DbRequest({ sessionId: () => 'bench', lookup: async () => 1n }), read),
      },
    ];
    for (const side of sides) await round(side.repo, side.wrap, 2000); // warm up pools and JIT
    const results = sides.map(() => [] as Array<{ perSecond: number; cpuMicros: number }>);
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < sides.length; k++) {
        const i = (r + k) % sides.length;
        results[i]!.push(await round(sides[i]!.repo, sides[i]!.wrap, READS));
      }
      if ((r + 1) % 10 === 0) console.log(`  ${r + 1}/${ROUNDS} rounds`);
    }
    const ref = results[0]!;
    console.log(
      `\n${ROUNDS} rounds x ${READS} reads per side, ${CONCURRENCY} concurrent, pools of ${POOL} per node; medians:\n`,
    );
    console.log(
      `  ${'read path'.padEnd(36)} ${'reads/s'.padStart(8)} ${'µs CPU/read'.padStart(12)} ${'reads/s vs ref'.padStart(15)} ${'CPU vs ref'.padStart(11)}`,
    );
    const ratios = sides.map((side, i) => {
      const mine = results[i]!;
      // Each round against the reference round of the same rotation, then the median of those paired ratios.
      const rate = median(mine.map((x, r) => x.perSecond / ref[r]!.perSecond));
      const cpu = median(mine.map((x, r) => x.cpuMicros / ref[r]!.cpuMicros));
      console.log(
        `  ${side.name.padEnd(36)} ${median(mine.map((x) => x.perSecond))
          .toFixed(0)
          .padStart(8)} ${median(mine.map((x) => x.cpuMicros))
          .toFixed(1)
          .padStart(12)} ${rate.toFixed(3).padStart(15)} ${cpu.toFixed(3).padStart(11)}`,
      );
      return { rate, cpu };
    });
    const spread = (await metrics.getSingleMetric('db_queries_total')!.get()).values.map(
      (v) => `${v.labels.node} ${v.value}`,
    );
    console.log(`\nrouting DataSource statements per node: ${spread.join(', ')}`);
    console.log(
      `\nrouting read path overhead: ${((1 - ratios[1]!.rate) * 100).toFixed(1)}% throughput, ${((ratios[1]!.cpu - 1) * 100).toFixed(1)}% client CPU per read (goal: under 5%)`,
    );
    await Promise.all([builtIn.destroy(), routing.destroy()]);
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
