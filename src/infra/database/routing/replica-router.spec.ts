import { DbRequest, readFromPrimary, runInDbRequest, runWithMinLsn } from '../consistency/db-context';
import { type DbNode, PoolWaitTimeout } from '../topology/db-node';
import { formatLsn } from '../topology/lsn';
import type { TopologyMonitor } from '../topology/topology-monitor';
import {
  DatabaseUnavailableError,
  NodeConnectionError,
  PoolBusyError,
  PrimaryUnavailableError,
} from './database-errors';
import { ReplicaRouter } from './replica-router';
import { NO_OBSERVER, type RoutingObserver } from './routing-observer';

/** A node whose pool hands out fake clients; `replayedLive` is what a direct replay-position check answers. */
function fakeNode(
  name: string,
  replayLsn = 0n,
  opts: { refuse?: boolean; busy?: boolean; replayedLive?: bigint } = {},
) {
  const client = {
    query: async () => ({ rows: [{ lsn: formatLsn(opts.replayedLive ?? replayLsn) }] }),
    release: () => undefined,
  };
  const connect = async () => {
    if (opts.busy) throw new PoolWaitTimeout(100, new Error('timeout exceeded when trying to connect'));
    return opts.refuse ? Promise.reject(new Error('connect ECONNREFUSED')) : client;
  };
  return { name, replayLsn, busy: 0, connect, observation: { timeline: 1 } } as unknown as DbNode;
}

function setup(replicas: DbNode[], primary: DbNode | null = fakeNode('primary')) {
  const failures: string[] = [];
  const topology = {
    started: true,
    primary: () => primary ?? undefined,
    readableReplicas: (except?: ReadonlySet<DbNode>) => replicas.filter((r) => !except?.has(r)),
    all: () => [...(primary ? [primary] : []), ...replicas],
    reportFailure: (node: DbNode) => failures.push(node.name),
    noteReplayed: () => undefined,
  } as unknown as TopologyMonitor;
  const events: string[] = [];
  const observer: RoutingObserver = {
    ...NO_OBSERVER,
    replicaFallback: (reason) => events.push(`fallback:${reason}`),
    readYourWritesOnPrimary: (reason) => events.push(`ryw:${reason}`),
    readYourWritesDuringFailover: () => events.push('ryw:failover'),
    replicaCaughtUpCheck: (result) => events.push(`check:${result}`),
    poolWaitTimedOut: (node) => events.push(`pool-busy:${node.name}`),
  };
  return { router: new ReplicaRouter(topology, 'round-robin', observer), failures, events };
}

const session = (lsn: bigint | Error) =>
  new DbRequest({ sessionId: () => 'sid', lookup: async () => (lsn instanceof Error ? Promise.reject(lsn) : lsn) });

describe('ReplicaRouter', () => {
  it('spreads anonymous reads over the healthy replicas', async () => {
    const { router } = setup([fakeNode('replica-1'), fakeNode('replica-2')]);
    const picks = [];
    for (let i = 0; i < 4; i++) picks.push((await router.read()).node.name);
    expect(picks).toEqual(['replica-1', 'replica-2', 'replica-1', 'replica-2']);
  });

  it('reads from the primary when no replica is usable, and counts it', async () => {
    const { router, events } = setup([]);
    expect(await router.read()).toMatchObject({ role: 'primary' });
    expect(events).toEqual(['fallback:no_healthy_replica']);
  });

  it('never picks the node a retried read failed on', async () => {
    const [a, b] = [fakeNode('replica-1'), fakeNode('replica-2')];
    const { router } = setup([a, b]);
    for (let i = 0; i < 3; i++) expect((await router.read(new Set([a]))).node).toBe(b);
  });

  it('reads from the primary inside readFromPrimary, and after the request wrote', async () => {
    const { router } = setup([fakeNode('replica-1')]);
    expect((await readFromPrimary(() => router.read())).role).toBe('primary');
    const request = new DbRequest();
    request.primaryTouched = true;
    expect((await runInDbRequest(request, () => router.read())).role).toBe('primary');
  });

  it("sends a session's reads only to replicas that replayed its last write", async () => {
    const { router, events } = setup([fakeNode('replica-1', 100n), fakeNode('replica-2', 200n)]);
    for (let i = 0; i < 3; i++)
      expect((await runInDbRequest(session(150n), () => router.read())).node.name).toBe('replica-2');
    expect(events).toEqual([]);
  });

  it('serves a session from the most advanced replica while no primary is reachable, rather than a 503', async () => {
    const { router, events } = setup([fakeNode('replica-1', 100n), fakeNode('replica-2', 200n)], null);
    expect((await runInDbRequest(session(250n), () => router.read())).node.name).toBe('replica-2');
    expect(events).toEqual(['ryw:failover']);
  });

  it('serves reads that must see the latest commits from the most advanced replica while no primary is elected', async () => {
    const [ahead, behind] = [fakeNode('replica-1', 300n), fakeNode('replica-2', 200n)];
    const { router, events } = setup([ahead, behind], null);
    // readFromPrimary (a cache fill after an invalidation whose commit position is unknown, a login's hash).
    expect((await readFromPrimary(() => router.read())).node.name).toBe('replica-1');
    // A request that already wrote, then lost its primary.
    const wrote = new DbRequest();
    wrote.primaryTouched = true;
    expect((await runInDbRequest(wrote, () => router.read())).node.name).toBe('replica-1');
    // A session whose position cannot be looked up.
    expect((await runInDbRequest(session(new Error('redis down')), () => router.read())).node.name).toBe('replica-1');
    // Never the replica a retried read just failed on.
    expect((await readFromPrimary(() => router.read(new Set([ahead])))).node).toBe(behind);
    expect(events).toEqual(['ryw:failover', 'ryw:failover', 'ryw:failover', 'ryw:failover']);
  });

  it('moves a primary-pinned read to the most advanced replica when the primary just refused it, unless it has a floor', async () => {
    const [ahead, behind] = [fakeNode('replica-1', 300n), fakeNode('replica-2', 200n)];
    const { router, failures, events } = setup([ahead, behind], fakeNode('primary', 0n, { refuse: true }));
    // The monitor still names the primary (its probe has not run since the kill); the read finds it gone.
    expect((await readFromPrimary(() => router.read())).node).toBe(ahead);
    // A read with a floor no replica has reached stays a 503: an older row could be cached as the new one.
    await expect(runInDbRequest(session(400n), () => router.read(new Set([ahead])))).rejects.toBeInstanceOf(
      DatabaseUnavailableError,
    );
    expect(failures).toEqual(['primary', 'primary']);
    expect(events).toEqual(['ryw:failover', 'check:behind', 'ryw:not_caught_up']);
  });

  it('asks the closest replica directly before falling back to the primary', async () => {
    const caughtUp = setup([fakeNode('replica-1', 100n), fakeNode('replica-2', 200n, { replayedLive: 300n })]);
    expect((await runInDbRequest(session(250n), () => caughtUp.router.read())).node.name).toBe('replica-2');
    expect(caughtUp.events).toEqual(['check:caught_up']);

    const behind = setup([fakeNode('replica-1', 100n), fakeNode('replica-2', 200n, { replayedLive: 240n })]);
    expect((await runInDbRequest(session(250n), () => behind.router.read())).role).toBe('primary');
    expect(behind.events).toEqual(['check:behind', 'ryw:not_caught_up']);
  });

  it("reads from the primary when the session's position cannot be looked up", async () => {
    const { router, events } = setup([fakeNode('replica-1', 900n)]);
    expect((await runInDbRequest(session(new Error('redis down')), () => router.read())).role).toBe('primary');
    expect(events).toEqual(['ryw:lsn_unknown']);
  });

  it("applies a job's minimum position like a session's", async () => {
    const { router } = setup([fakeNode('replica-1', 100n), fakeNode('replica-2', 0x500n)]);
    expect((await runWithMinLsn('0/400', () => router.read())).node.name).toBe('replica-2');
  });

  it('reports a replica that refuses connections, and says which one failed', async () => {
    const { router, failures } = setup([fakeNode('replica-1', 0n, { refuse: true })]);
    await expect(router.read()).rejects.toBeInstanceOf(NodeConnectionError);
    expect(failures).toEqual(['replica-1']);
  });

  it('refuses writes at once without a primary, and reads too when no replica is left', async () => {
    const { router } = setup([], null);
    await expect(router.primary()).rejects.toBeInstanceOf(PrimaryUnavailableError);
    await expect(router.read()).rejects.toBeInstanceOf(DatabaseUnavailableError);
  });

  it('answers a busy pool with PoolBusyError, and never reports the node as failed', async () => {
    const primary = fakeNode('primary', 0n, { busy: true });
    const { router, failures, events } = setup([fakeNode('replica-1', 0n, { busy: true })], primary);
    await expect(router.primary()).rejects.toBeInstanceOf(PoolBusyError);
    await expect(router.read()).rejects.toBeInstanceOf(PoolBusyError);
    expect(failures).toEqual([]);
    expect(events).toEqual(['pool-busy:primary', 'pool-busy:replica-1']);
  });
});
