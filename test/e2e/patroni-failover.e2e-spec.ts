import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPatroniCluster, type PatroniCluster } from '../../tools/stack/patroni-cluster';
import type { PatroniMember } from '../../tools/stack/patroni-member';
import { sleep } from '../../tools/stack/ports';
import { type WriteLoop, missingOn, startWritableSampler, startWriteLoop, timeUntil } from '../support/patroni-drill';

// Patroni 4 raises ttl to at least 20 s: a dead or hung leader keeps its key that long, then a replica takes it on
// its next loop (loop_wait 2 s) and promotes.
const ELECTION_BOUND_MS = 30_000;
const REJOIN_BOUND_MS = 30_000;
const DEMOTE_BOUND_MS = 15_000;
/** How long the hung leader stays frozen after its successor took over: the successor must be taking writes. */
const FROZEN_AFTER_ELECTION_MS = 5_000;

describe('PostgreSQL under Patroni + etcd: 3 etcd, 3 Patroni members, synchronous_mode (real processes)', () => {
  let dir: string;
  let cluster: PatroniCluster;
  let nextId = 1;

  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  /** Writes `member` acknowledged after time `t`. */
  const acksBy = (loop: WriteLoop, member: PatroniMember, t: number) =>
    loop.acknowledged.filter((a) => a.node === member.name && a.at > t);
  /** The rejoined member as its leader sees it. */
  const replicationState = async (leader: PatroniMember, member: PatroniMember) =>
    (
      await leader.query<{ state: string }>('SELECT state FROM pg_stat_replication WHERE application_name = $1', [
        member.name,
      ])
    )[0]?.state;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'z2m-patroni-'));
    const started = Date.now();
    cluster = await startPatroniCluster({ dir });
    console.log(
      `patroni: 3 etcd + 3 Patroni members up in ${seconds(Date.now() - started)}: ${await cluster.describe()}`,
    );
    const leader = await cluster.waitForLeader();
    await leader.query('CREATE TABLE drill_writes (id bigint PRIMARY KEY, node text NOT NULL)');
    await leader.query('CREATE TABLE drill_probes (id bigserial PRIMARY KEY, node text NOT NULL)');
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    // Z2M_KEEP_STACK=1 keeps the data and logs (logs/pg-1.log, logs/etcd-1.log, ...) for a post-mortem.
    if (dir && !process.env.Z2M_KEEP_STACK) rmSync(dir, { recursive: true, force: true });
    else if (dir) console.log(`patroni: kept ${dir}`);
  }, 60_000);

  it('kill -9 of the leader (Patroni + postgres): a new leader, no acknowledged write lost, the old one rejoins', async () => {
    const old = await cluster.waitForLeader();
    await cluster.waitForSyncStandby();
    const loop = startWriteLoop(cluster, 'drill_writes', nextId);
    const measured = { killedAt: 0, electionMs: 0, firstWriteMs: 0 };
    try {
      await timeUntil('30 writes acknowledged', async () => loop.acknowledged.length >= 30, 10_000);
      measured.killedAt = Date.now();
      await old.kill();
      const successor = await cluster.waitForLeader(ELECTION_BOUND_MS, { except: old.name });
      measured.electionMs = Date.now() - measured.killedAt;
      await timeUntil(
        '20 writes acknowledged after the kill',
        async () => acksBy(loop, successor, measured.killedAt).length >= 20,
        10_000,
      );
      measured.firstWriteMs = acksBy(loop, successor, measured.killedAt)[0]!.at - measured.killedAt;
      expect(successor.name).not.toBe(old.name);
    } finally {
      await loop.stop();
      nextId += 1_000_000;
    }
    const leader = await cluster.waitForLeader();
    const missing = await missingOn(leader, 'drill_writes', loop.acknowledged);

    const restartedAt = Date.now();
    await old.start();
    await cluster.waitForStreaming(old, REJOIN_BOUND_MS);
    const rejoinMs = Date.now() - restartedAt;
    // Patroni reports the member's own view (its WAL receiver); the leader's walsender row can follow a moment later.
    await timeUntil(
      'the leader sees the rejoined member streaming',
      async () => (await replicationState(leader, old)) === 'streaming',
      REJOIN_BOUND_MS,
    );
    const state = await replicationState(leader, old);

    console.log(
      `patroni kill -9 of leader ${old.name}: new leader ${leader.name} after ${seconds(measured.electionMs)}, first write ` +
        `acknowledged by it ${seconds(measured.firstWriteMs)} after the kill; writes acknowledged ${loop.acknowledged.length}, ` +
        `lost ${missing.length}, failed attempts ${JSON.stringify(loop.failures)}; ${old.name} streaming again ` +
        `${seconds(rejoinMs)} after its restart (pg_stat_replication: ${state})`,
    );
    expect(measured.electionMs).toBeLessThan(ELECTION_BOUND_MS);
    expect(missing).toEqual([]);
    expect(state).toBe('streaming');
  }, 100_000);

  it('freeze (SIGSTOP) of the leader: a new leader, never two writable primaries, the thawed one demotes itself', async () => {
    const old = await cluster.waitForLeader();
    await Promise.all(cluster.nodes.filter((m) => m !== old).map((m) => cluster.waitForStreaming(m)));
    await cluster.waitForSyncStandby();
    const loop = startWriteLoop(cluster, 'drill_writes', nextId);
    const sampler = startWritableSampler(cluster, 'drill_probes');
    const measured = { electionMs: 0, frozenMs: 0, demoteMs: 0, rejoinMs: 0, frozenAt: 0 };
    let successor: PatroniMember | undefined;
    try {
      await timeUntil('30 writes acknowledged', async () => loop.acknowledged.length >= 30, 10_000);
      measured.frozenAt = Date.now();
      old.freeze();
      try {
        successor = await cluster.waitForLeader(ELECTION_BOUND_MS, { except: old.name });
        measured.electionMs = Date.now() - measured.frozenAt;
        await sleep(FROZEN_AFTER_ELECTION_MS);
      } finally {
        old.thaw();
        measured.frozenMs = Date.now() - measured.frozenAt;
      }
      const thawedAt = Date.now();
      measured.demoteMs = await timeUntil('the thawed leader in recovery', () => old.isInRecovery(), DEMOTE_BOUND_MS);
      const electedAt = measured.frozenAt + measured.electionMs;
      await timeUntil(
        '20 writes acknowledged after the election',
        async () => acksBy(loop, successor!, electedAt).length >= 20,
        10_000,
      );
      await cluster.waitForStreaming(old, REJOIN_BOUND_MS);
      measured.rejoinMs = Date.now() - thawedAt;
    } finally {
      await Promise.all([loop.stop(), sampler.stop()]);
      nextId += 1_000_000;
    }
    const leader = await cluster.waitForLeader();
    const missing = await missingOn(leader, 'drill_writes', loop.acknowledged);
    // Replies already on the wire when SIGSTOP landed may be read a moment later; after that, a hung or thawed
    // old leader must acknowledge nothing: its synchronous standby now follows (or is) someone else.
    const lateAcksByOld = loop.acknowledged.filter(
      (a) => a.node === old.name && a.at > measured.frozenAt + 1000,
    ).length;

    console.log(
      `patroni freeze of leader ${old.name} for ${seconds(measured.frozenMs)}: new leader ${successor?.name} after ` +
        `${seconds(measured.electionMs)}; after the thaw ${old.name} in recovery within ${seconds(measured.demoteMs)} and streaming ` +
        `within ${seconds(measured.rejoinMs)}; writes acknowledged ${loop.acknowledged.length}, lost ${missing.length}, ` +
        `acknowledged by ${old.name} after it hung ${lateAcksByOld}, failed attempts ${JSON.stringify(loop.failures)}; ` +
        `writable-primary samples ${JSON.stringify(sampler.counts)}, split brain ${sampler.splitBrain.length}`,
    );
    expect(measured.electionMs).toBeLessThan(ELECTION_BOUND_MS);
    expect(sampler.splitBrain).toEqual([]);
    expect(sampler.counts.one).toBeGreaterThan(0);
    expect(missing).toEqual([]);
    expect(lateAcksByOld).toBe(0);
  }, 110_000);

  it('switchover through the REST API: the named sync standby leads, no acknowledged write lost', async () => {
    const old = await cluster.waitForLeader();
    const candidate = await cluster.waitForSyncStandby();
    const loop = startWriteLoop(cluster, 'drill_writes', nextId);
    const measured = { handoverMs: 0 };
    let leader: PatroniMember;
    try {
      await timeUntil('30 writes acknowledged', async () => loop.acknowledged.length >= 30, 10_000);
      const requestedAt = Date.now();
      leader = await cluster.switchover(candidate.name);
      measured.handoverMs = Date.now() - requestedAt;
      await timeUntil(
        '20 writes acknowledged by the new leader',
        async () => acksBy(loop, leader, requestedAt).length >= 20,
        10_000,
      );
    } finally {
      await loop.stop();
      nextId += 1_000_000;
    }
    const missing = await missingOn(leader, 'drill_writes', loop.acknowledged);
    console.log(
      `patroni switchover ${old.name} -> ${candidate.name}: writable again after ${seconds(measured.handoverMs)}; ` +
        `writes acknowledged ${loop.acknowledged.length}, lost ${missing.length}, failed attempts ${JSON.stringify(loop.failures)}`,
    );
    expect(leader.name).toBe(candidate.name);
    expect(missing).toEqual([]);
  }, 40_000);
});
