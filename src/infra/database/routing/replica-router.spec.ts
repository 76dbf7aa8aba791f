import { DbRequest, readFromPrimary, runInDbRequest, runWithMinLsn } from '../consistency/db-context';
import type { DbNode } from '../topology/db-node';
import { formatLsn } from '../topology/lsn';
import type { TopologyMonitor } from '../topology/topology-monitor';
import { DatabaseUnavailableError, NodeConnectionError, PrimaryUnavailableError } from './database-errors';
import { ReplicaRouter } from './replica-router';
import { NO_OBSERVER, type RoutingObserver } from './routing-observer';

/** A node whose pool hands out fake clients; `replayedLive` is what a direct replay-position check answers. */
function fakeNode(name: string, replayLsn = 0n, opts: { refuse?: boolean; replayedLive?: bigint } = {}) {
  const client = { query: async () => ({ rows: [{ lsn: formatLsn(opts.replayedLive ?? replayLsn) }] }), release: () => undefined };
  const pool = { connect: async () => (opts.refuse ? Promise.reject(new Error('connect ECONNREFUSED')) : client) };
  return { name, replayLsn, busy: 0, pool, observation: { timeline: 1 } } as unknown as DbNode;
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
    replicaCaughtUpCheck: (result) => events.push(`check:${result}`),
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
    for (let i = 0; i < 3; i++) expect((await runInDbRequest(session(150n), () => router.read())).node.name).toBe('replica-2');
    expect(events).toEqual([]);
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
});
