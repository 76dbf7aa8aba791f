import { type ConnectionOptions, isRedisInstance, Queue, Worker } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSentinel } from 'redis';
import { sleep } from '../../tools/stack/ports';
import {
  type RedisSentinelGroup,
  type SentinelRedisNode,
  startRedisSentinelGroup,
} from '../../tools/stack/redis-sentinel';
import { respCommand, RespError } from '../../tools/stack/resp-command';
import { eventually } from '../support/eventually';
import { ClientLoop, type OutageReport, summarize, withDeadline } from '../support/redis-failover-drill';

const MASTER = 'z2m';
// Request-path deadline: a client that neither answers nor fails within it counts as unavailable.
const OP_DEADLINE_MS = 2000;

/**
 * Redis under Sentinel as real processes (1 primary, 2 replicas, 3 Sentinels): kill -9 of the primary while
 * node-redis, ioredis and BullMQ on each of them keep writing, to pick the one client library that follows a
 * failover best. Numbers are printed; bounds are hard.
 */
describe('Redis Sentinel failover: which client follows best', () => {
  let dir: string;
  let group: RedisSentinelGroup;
  let killedMaster: SentinelRedisNode;
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'z2m-sentinel-'));
    // min-replicas-to-write 1: a primary cut off from both replicas refuses writes instead of losing them later.
    group = await startRedisSentinelGroup({ dir, minReplicasToWrite: 1, minReplicasMaxLagS: 10 });
  }, 60_000);
  afterAll(async () => {
    for (const close of closers.reverse()) await withDeadline(close(), 5000).catch(() => undefined);
    await group?.stop();
    // Z2M_KEEP_STACK=1 keeps the Redis and Sentinel logs (redis/*, sentinel/*) for a post-mortem.
    if (dir && !process.env.Z2M_KEEP_STACK) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const sentinels = () => group.sentinelAddresses();

  /** node-redis: fail fast in the request path (no offline queue, a per-command timeout, short reconnects). */
  const nodeRedisSentinel = (failFast: boolean) => {
    const client = createSentinel({
      name: MASTER,
      sentinelRootNodes: sentinels(),
      nodeClientOptions: {
        disableOfflineQueue: failFast,
        socket: { connectTimeout: 500, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500) },
      },
      sentinelClientOptions: { socket: { connectTimeout: 500 } },
      ...(failFast ? { commandOptions: { timeout: 1000 } } : {}),
    });
    client.on('error', () => undefined);
    closers.push(() => client.destroy());
    return client;
  };

  /** ioredis: the same fail-fast stance; BullMQ's Worker needs maxRetriesPerRequest null instead. */
  const ioredisOptions = (failFast: boolean): RedisOptions => ({
    sentinels: sentinels(),
    name: MASTER,
    connectTimeout: 500,
    sentinelCommandTimeout: 500,
    retryStrategy: (times: number) => Math.min(times * 50, 500),
    ...(failFast ? { enableOfflineQueue: false, commandTimeout: 1000, maxRetriesPerRequest: 1 } : {}),
  });
  const ioredisSentinel = () => {
    const client = new Redis(ioredisOptions(true));
    client.on('error', () => undefined);
    closers.push(() => client.quit().catch(() => client.disconnect()));
    return client;
  };

  /**
   * Producer + worker on one client kind. Redis replicates asynchronously: an add() that resolved may still die
   * with a master killed before it replicated. So, as the outbox relay does, an add counts as acknowledged only
   * once WAIT 1 on the connection that added it confirms a replica has it; every acknowledged job must be
   * processed. Adds that resolved without that confirmation are counted and printed, not asserted.
   */
  const bullmqDrill = (kind: string, queueConnection: unknown, workerConnection: unknown) => {
    const queueName = `drill-${kind}`;
    const added = new Set<string>();
    const acked = new Map<string, number>();
    const processed = new Map<string, number>();
    const queue = new Queue(queueName, { connection: queueConnection as ConnectionOptions });
    queue.on('error', () => undefined);
    const worker = new Worker(
      queueName,
      async (job) => {
        if (!processed.has(job.id!)) processed.set(job.id!, Date.now());
      },
      { connection: workerConnection as ConnectionOptions, concurrency: 4 },
    );
    worker.on('error', () => undefined);
    closers.push(
      () => queue.close(),
      () => worker.close(),
    );
    const loop = new ClientLoop(
      `bullmq on ${kind}`,
      async (i) => {
        const id = `${kind}-${i}`;
        await queue.add('drill', { i }, { jobId: id });
        added.add(id);
        const client = (await queue.backend.client) as unknown as Pick<Redis, 'wait'>;
        const replicas = await client.wait(1, 500);
        if (replicas < 1) throw new Error(`job ${id} reached no replica within 500 ms`);
        acked.set(id, Date.now());
      },
      OP_DEADLINE_MS,
      30,
    );
    return { loop, added, acked, processed, worker };
  };

  it('kill -9 of the primary: Sentinel elects a replica and every client recovers without a restart', async () => {
    const nodeRedis = nodeRedisSentinel(true);
    await nodeRedis.connect();
    const ioredis = ioredisSentinel();
    await eventually(
      async () => ioredis.status,
      (s) => s === 'ready',
      10_000,
      50,
    );

    // What WAIT 1 costs per write, on one connection (WAIT counts only the writes of its own connection).
    const plain: number[] = [];
    const waited: number[] = [];
    const durableKeys: string[] = [];
    for (let i = 0; i < 300; i++) {
      let t = performance.now();
      await ioredis.set(`plain:${i}`, 'v');
      plain.push(performance.now() - t);
      t = performance.now();
      await ioredis.set(`durable:${i}`, 'v');
      const replicas = (await ioredis.call('WAIT', '1', '500')) as number;
      waited.push(performance.now() - t);
      expect(replicas).toBeGreaterThanOrEqual(1);
      durableKeys.push(`durable:${i}`);
    }
    // node-redis Sentinel pools master connections: WAIT must run on the same leased client as the write.
    const lease = await nodeRedis.acquire();
    const nodeRedisWaited: number[] = [];
    try {
      for (let i = 0; i < 100; i++) {
        const t = performance.now();
        await lease.set(`durable-nr:${i}`, 'v');
        expect(await lease.wait(1, 500)).toBeGreaterThanOrEqual(1);
        nodeRedisWaited.push(performance.now() - t);
        durableKeys.push(`durable-nr:${i}`);
      }
    } finally {
      await lease.release();
    }
    console.log('SET ms', summarize(plain), 'SET+WAIT 1 ms (ioredis)', summarize(waited));
    console.log('SET+WAIT 1 ms (node-redis lease)', summarize(nodeRedisWaited));

    const ackedPlainWrites: string[] = [];
    const kvLoop = (
      name: string,
      set: (k: string, v: string) => Promise<unknown>,
      get: (k: string) => Promise<unknown>,
    ) =>
      new ClientLoop(
        name,
        async (i) => {
          const key = `${name}:${i}`;
          await set(key, String(i));
          ackedPlainWrites.push(key);
          const got = await get(key);
          if (got !== String(i)) throw new Error(`read ${String(got)} after writing ${i}`);
        },
        OP_DEADLINE_MS,
      );
    const loops = [
      kvLoop(
        'node-redis',
        (k, v) => nodeRedis.set(k, v),
        (k) => nodeRedis.get(k),
      ),
      kvLoop(
        'ioredis',
        (k, v) => ioredis.set(k, v),
        (k) => ioredis.get(k),
      ),
    ];
    const bullIoredis = bullmqDrill('ioredis', ioredisOptions(true), {
      ...ioredisOptions(false),
      maxRetriesPerRequest: null,
    });
    const drills = [bullIoredis];
    loops.push(...drills.map((d) => d.loop));
    await eventually(
      async () => drills.map((d) => d.processed.size),
      (sizes) => sizes.every((n) => n >= 5),
      15_000,
    );
    await sleep(1000);

    killedMaster = (await group.master())!;
    expect(killedMaster.name).toBe('redis-1');
    const plainAckedAtKill = ackedPlainWrites.length;
    const killedAt = Date.now();
    await killedMaster.kill();
    const newMaster = await group.waitForMaster(killedMaster, 20_000);
    const electionMs = Date.now() - killedAt;
    const electedAt = Date.now();
    await eventually(
      async () => loops.map((l) => l.recoveredSince(electedAt)),
      (ok) => ok.every(Boolean),
      25_000,
      100,
    );
    await sleep(1000);
    for (const l of loops) await l.stop();
    // Every acknowledged add must be processed: jobs are at-least-once even across a failover.
    const drainedAt = Date.now();
    await eventually(
      async () => drills.map((d) => [...d.acked.keys()].filter((id) => !d.processed.has(id)).length),
      (missing) => missing.every((n) => n === 0),
      20_000,
      200,
    ).catch(() => undefined);

    const reports: OutageReport[] = loops.map((l) => l.report(killedAt));
    console.log(`election: ${electionMs} ms (${killedMaster.name} -> ${newMaster.name})`);
    // Where the time went, from the Sentinels' and the nodes' own logs (the kill at the start).
    console.log(
      `killed at ${new Date(killedAt).toISOString().slice(11, 23)} UTC\n${group.failoverEvents().join('\n')}`,
    );
    console.table(reports.map(({ firstErrors, ...r }) => ({ ...r, firstError: firstErrors[0]?.slice(0, 60) })));
    const jobs = drills.map((d) => {
      const lost = [...d.acked.keys()].filter((id) => !d.processed.has(id));
      const latencies = [...d.acked].filter(([id]) => d.processed.has(id)).map(([id, at]) => d.processed.get(id)! - at);
      const unreplicatedLost = [...d.added].filter((id) => !d.acked.has(id) && !d.processed.has(id)).length;
      return {
        client: d.loop.client,
        added: d.added.size,
        acked: d.acked.size,
        unreplicatedLost,
        processed: d.processed.size,
        lost: lost.length,
        latency: summarize(latencies),
      };
    });
    console.log('jobs', JSON.stringify(jobs), `drain wait ${Date.now() - drainedAt} ms`);
    for (const r of reports) console.log(r.client, 'errors:', r.firstErrors);

    const onNewMaster = (await respCommand(newMaster.port, ['MGET', ...durableKeys], 2000)) as (string | null)[];
    const plainBeforeKill = ackedPlainWrites.slice(0, plainAckedAtKill);
    const plainValues = (await respCommand(newMaster.port, ['MGET', ...plainBeforeKill], 2000)) as (string | null)[];
    console.log(
      `acked plain SETs missing on the new master: ${plainValues.filter((v) => v === null).length}/${plainBeforeKill.length}`,
    );

    expect(electionMs).toBeLessThan(10_000);
    for (const r of reports) {
      expect({ client: r.client, failuresBeforeKill: r.failuresBeforeDisruption }).toEqual({
        client: r.client,
        failuresBeforeKill: 0,
      });
      expect(r.recoveredAfterMs).toBeLessThan(15_000);
      expect(r.longestGapMs).toBeLessThan(15_000);
    }
    for (const j of jobs) expect({ client: j.client, lost: j.lost }).toEqual({ client: j.client, lost: 0 });
    expect(onNewMaster.filter((v) => v !== 'v')).toEqual([]);
  }, 120_000);

  it('BullMQ does not take a node-redis Sentinel client: it would treat it as ioredis options for 127.0.0.1:6379', () => {
    // BullMQ 6.7 detects a client by connect/disconnect/duplicate; RedisSentinel has no disconnect(), so Queue and
    // Worker silently connect to the default host and port instead (seen acking adds into the wrong Redis).
    const client = createSentinel({ name: MASTER, sentinelRootNodes: sentinels() });
    expect(isRedisInstance(client)).toBe(false);
    expect(isRedisInstance(new Redis({ ...ioredisOptions(true), lazyConnect: true }))).toBe(true);
  });

  it('a killed primary restarted through the harness returns as a replica and is never writable meanwhile', async () => {
    const master = await group.waitForMaster(killedMaster, 10_000);
    const observed: string[] = [];
    let watching = true;
    // Probes the returning node as fast as it answers, from before its process starts until it has synced.
    const watcher = (async () => {
      while (watching) {
        try {
          const write = await respCommand(killedMaster.port, ['SET', 'probe:writable', '1'], 300);
          observed.push(write instanceof RespError ? write.message.split(' ')[0]! : `WRITABLE ${String(write)}`);
        } catch {
          observed.push('down');
        }
        await sleep(5);
      }
    })();
    const startedAt = Date.now();
    await killedMaster.start();
    const role = await eventually(
      () => group.roleOf(killedMaster),
      (r) => r.role === 'slave' && r.linkState === 'connected',
      15_000,
      50,
    );
    const syncedMs = Date.now() - startedAt;
    await sleep(500);
    watching = false;
    await watcher;
    await group.waitUntilSettled(20_000);
    console.log(`rejoined as replica of :${master.port} in ${syncedMs} ms; probes:`, summarizeProbes(observed));

    expect(role).toMatchObject({ role: 'slave', masterPort: master.port });
    expect(observed.filter((o) => o.startsWith('WRITABLE'))).toEqual([]);
    expect(observed).toContain('READONLY');
    expect(await respCommand(master.port, ['GET', 'probe:writable'])).toBeNull();
  }, 60_000);
});

function summarizeProbes(observed: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of observed) counts[o] = (counts[o] ?? 0) + 1;
  return counts;
}
