/**
 * The read path's cost: TypeORM's built-in replication (`replication: { master, slaves }`, a Math.random
 * pick per read) against the routing DataSource (topology-aware pick, retry wrapper, request context,
 * metrics hook) on the same primary + 2 replicas, in the same process and run, in alternating rounds.
 *
 *   npm run bench:replicas                      # defaults: 20000 reads per round, 16 concurrent, 3 rounds each
 *   BENCH_READS=50000 BENCH_CONCURRENCY=32 npm run bench:replicas
 *
 * One "read" is `repository.findOneBy({ id })` of a random row (a SelectQueryBuilder on a 'slave' runner), as a
 * request would do it; the routing side runs each read in its own request context (AsyncLocalStorage), as the
 * API does. Both sides use pools of the same size and the same pg driver. Printed: reads/s and client CPU per
 * read (the process's user+system time / reads: the routing overhead itself, free of PostgreSQL's share).
 */
import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, EntitySchema, type Repository } from 'typeorm';
import { DbRequest, runInDbRequest } from '../src/infra/database/consistency/db-context';
import { createRoutingDataSource } from '../src/infra/database/routing/routing-data-source';
import { startPostgresCluster } from '../tools/stack/postgres-cluster';
import { freePort } from '../tools/stack/ports';

const READS = Number(process.env.BENCH_READS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
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

async function round(repo: Repository<Item>, wrap: Runner, reads: number): Promise<{ perSecond: number; cpuMicros: number }> {
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
  const cluster = await startPostgresCluster({ dir, primaryPort: ports[0]!, replicaPorts: [ports[1]!, ports[2]!], fast: true });
  try {
    await cluster.primary.query(`CREATE TABLE bench_items (id int PRIMARY KEY, name text NOT NULL, payload text NOT NULL)`);
    await cluster.primary.query(`INSERT INTO bench_items SELECT g, 'item ' || g, repeat('x', 200) FROM generate_series(1, ${ROWS}) g`);
    await cluster.primary.query('CHECKPOINT');
    const [primaryUrl, ...replicaUrls] = cluster.nodes.map((n) => n.url());
    for (const r of cluster.replicas) {
      while (Number((await r.query<{ n: string }>('SELECT count(*) AS n FROM bench_items').catch(() => [{ n: '0' }]))[0]!.n) < ROWS) {
        await new Promise((res) => setTimeout(res, 100));
      }
    }

    const builtIn = await new DataSource({
      type: 'postgres',
      replication: { master: { url: primaryUrl }, slaves: replicaUrls.map((url) => ({ url })) },
      entities: [ItemSchema],
      extra: { max: POOL },
    }).initialize();
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
      },
    }).initialize();

    const sides: Array<{ name: string; repo: Repository<Item>; wrap: Runner }> = [
      { name: 'TypeORM replication (Math.random)', repo: builtIn.getRepository(ItemSchema), wrap: (read) => read() },
      { name: 'routing DataSource', repo: routing.getRepository(ItemSchema), wrap: (read) => runInDbRequest(new DbRequest(), read) },
      {
        name: 'routing, session read (caught up)',
        repo: routing.getRepository(ItemSchema),
        // A session whose last write every replica has replayed; its lookup is free here (Redis is measured apart).
        wrap: (read) => runInDbRequest(new DbRequest(async () => 1n), read),
      },
    ];
    for (const side of sides) await round(side.repo, side.wrap, Math.min(2000, READS)); // warm up pools and JIT
    const results = new Map(sides.map((s) => [s.name, [] as Array<{ perSecond: number; cpuMicros: number }>]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const side of sides) {
        const result = await round(side.repo, side.wrap, READS);
        results.get(side.name)!.push(result);
        console.log(`  round ${r + 1}  ${side.name.padEnd(36)} ${result.perSecond.toFixed(0).padStart(7)} reads/s  ${result.cpuMicros.toFixed(1).padStart(6)} µs CPU/read`);
      }
    }
    const reference = results.get(sides[0]!.name)!;
    const refRate = median(reference.map((x) => x.perSecond));
    const refCpu = median(reference.map((x) => x.cpuMicros));
    console.log(`\n${READS} reads x ${ROUNDS} rounds, ${CONCURRENCY} concurrent, pools of ${POOL} per node (medians):\n`);
    console.log(`  ${'read path'.padEnd(36)} ${'reads/s'.padStart(8)} ${'vs ref'.padStart(7)} ${'µs CPU/read'.padStart(12)} ${'vs ref'.padStart(7)}`);
    for (const side of sides) {
      const rate = median(results.get(side.name)!.map((x) => x.perSecond));
      const cpu = median(results.get(side.name)!.map((x) => x.cpuMicros));
      console.log(
        `  ${side.name.padEnd(36)} ${rate.toFixed(0).padStart(8)} ${(rate / refRate).toFixed(3).padStart(7)} ${cpu.toFixed(1).padStart(12)} ${(cpu / refCpu).toFixed(3).padStart(7)}`,
      );
    }
    const ours = median(results.get(sides[1]!.name)!.map((x) => x.perSecond));
    console.log(`\nthroughput overhead of the routing read path: ${((1 - ours / refRate) * 100).toFixed(1)}% (goal: under 5%)`);
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
