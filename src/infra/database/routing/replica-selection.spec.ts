import { caughtUp, furthestAhead, pickReplica, type ReplicaCandidate } from './replica-selection';

const replica = (name: string, replayLsn = 0n, busy = 0): ReplicaCandidate => ({ name, replayLsn, busy });

describe('pickReplica', () => {
  const three = [replica('replica-1'), replica('replica-2'), replica('replica-3')];

  it('has nothing to pick from an empty pool', () => {
    expect(pickReplica([], 'round-robin', 0)).toBeUndefined();
    expect(pickReplica([], 'least-busy', 0)).toBeUndefined();
  });

  it('rotates in round-robin', () => {
    expect([0, 1, 2, 3, 4].map((t) => pickReplica(three, 'round-robin', t)!.name)).toEqual([
      'replica-1',
      'replica-2',
      'replica-3',
      'replica-1',
      'replica-2',
    ]);
  });

  it('sends least-busy reads to the idlest replica whatever the turn', () => {
    const pool = [replica('replica-1', 0n, 4), replica('replica-2', 0n, 1), replica('replica-3', 0n, 7)];
    expect([0, 1, 2].map((t) => pickReplica(pool, 'least-busy', t)!.name)).toEqual([
      'replica-2',
      'replica-2',
      'replica-2',
    ]);
  });

  it('rotates among equally idle replicas', () => {
    const pool = [replica('replica-1', 0n, 2), replica('replica-2', 0n, 0), replica('replica-3', 0n, 0)];
    expect([0, 1, 2].map((t) => pickReplica(pool, 'least-busy', t)!.name)).toEqual([
      'replica-2',
      'replica-3',
      'replica-2',
    ]);
  });
});

describe('caughtUp', () => {
  const pool = [replica('a', 100n), replica('b', 200n), replica('c', 300n)];

  it('keeps every replica when there is no position to reach', () => {
    expect(caughtUp(pool, undefined)).toBe(pool);
  });

  it('keeps the replicas that replayed at least the position', () => {
    expect(caughtUp(pool, 200n).map((r) => r.name)).toEqual(['b', 'c']);
    expect(caughtUp(pool, 301n)).toEqual([]);
  });
});

describe('furthestAhead', () => {
  it('is the replica with the highest replay position', () => {
    expect(furthestAhead([replica('a', 100n), replica('b', 300n), replica('c', 200n)])!.name).toBe('b');
    expect(furthestAhead([])).toBeUndefined();
  });
});
