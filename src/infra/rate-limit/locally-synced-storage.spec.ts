import type { ThrottlerStorage } from '@nestjs/throttler';
import { LocallySyncedStorage } from './locally-synced-storage';
import type { RedisWindow, WindowState } from './redis-window';

/** The Redis script's semantics in memory (redis-window.ts): one counter per window, a block past the limit. */
class FakeWindow {
  calls = 0;
  down = false;
  private readonly windows = new Map<string, { hits: number; expiresAt: number; blockedUntil: number }>();
  constructor(private readonly clock: { now: number }) {}

  async add(
    key: string,
    name: string,
    hits: number,
    limits: { ttl: number; limit: number; blockDuration: number },
  ): Promise<WindowState> {
    this.calls++;
    if (this.down) throw new Error('Connection is closed.');
    const id = `${name}:${key}`;
    const now = this.clock.now;
    let w = this.windows.get(id);
    if (!w || w.expiresAt <= now) this.windows.set(id, (w = { hits: 0, expiresAt: now + limits.ttl, blockedUntil: 0 }));
    w.hits += hits;
    if (w.blockedUntil <= now && w.hits > limits.limit) w.blockedUntil = now + limits.blockDuration;
    return {
      totalHits: w.hits,
      timeToExpireMs: w.expiresAt - now,
      timeToBlockExpireMs: Math.max(0, w.blockedUntil - now),
    };
  }
}

describe('LocallySyncedStorage', () => {
  const clock = { now: 1_000_000 };
  const LIMIT = 40;
  const TTL = 60_000;
  let window: FakeWindow;
  let exact: jest.Mocked<ThrottlerStorage>;
  let errors: number;
  const storages: LocallySyncedStorage[] = [];
  const instance = (maxLocalWindows = 1000) => {
    const s = new LocallySyncedStorage(window as unknown as RedisWindow, exact, {
      syncMs: 60_000, // the tests sync by hand
      deadlineMs: 1000,
      maxLocalWindows,
      onSyncError: () => errors++,
      now: () => clock.now,
    });
    storages.push(s);
    return s;
  };
  const hit = (s: LocallySyncedStorage, client = '203.0.113.7') => s.increment(client, TTL, LIMIT, TTL, 'default');

  beforeEach(() => {
    window = new FakeWindow(clock);
    exact = { increment: jest.fn() };
    errors = 0;
  });
  afterEach(async () => {
    window.down = false;
    for (const s of storages.splice(0)) await s.onModuleDestroy();
  });

  it('decides locally, with no Redis call per check, and sends the hits in one call per client and sync', async () => {
    const s = instance();
    const records = [];
    for (let i = 0; i < LIMIT + 1; i++) records.push(await hit(s));
    expect(window.calls).toBe(0);
    expect(records.slice(0, LIMIT).every((r) => !r.isBlocked)).toBe(true);
    expect(records[LIMIT - 1]!.totalHits).toBe(LIMIT);
    expect(records[LIMIT]).toMatchObject({ isBlocked: true, timeToBlockExpire: 60 });
    await s.sync();
    expect(window.calls).toBe(1);
    // Redis holds every hit, the refused one included: the block is now the fleet's.
    expect(
      (await window.add('203.0.113.7', 'default', 0, { ttl: TTL, limit: LIMIT, blockDuration: TTL })).totalHits,
    ).toBe(LIMIT + 1);
  });

  it('holds the limit across instances, past it by at most the hits sent between two syncs', async () => {
    const [a, b, c] = [instance(), instance(), instance()];
    const perInterval = 6; // requests the client sends in one sync interval, spread over the three instances
    let admitted = 0;
    for (let i = 0; i < 200; i++) {
      const r = await hit([a, b, c][i % 3]!);
      if (!r.isBlocked) admitted++;
      if (i % perInterval === perInterval - 1) {
        clock.now += 100;
        await Promise.all([a.sync(), b.sync(), c.sync()]);
      }
    }
    expect(admitted).toBeGreaterThanOrEqual(LIMIT);
    expect(admitted).toBeLessThanOrEqual(LIMIT + perInterval);
    // Once synced, every instance refuses the client, and another client is untouched.
    for (const s of [a, b, c]) expect((await hit(s)).isBlocked).toBe(true);
    expect((await hit(a, '198.51.100.9')).isBlocked).toBe(false);
  });

  it('starts a new window when the old one has ended', async () => {
    const s = instance();
    for (let i = 0; i <= LIMIT; i++) await hit(s);
    await s.sync();
    expect((await hit(s)).isBlocked).toBe(true);
    clock.now += TTL + 1;
    const fresh = await hit(s);
    expect(fresh).toMatchObject({ isBlocked: false, totalHits: 1 });
  });

  it('keeps the hits of a failed sync for the next one, counts the failure, and limits by its own counts meanwhile', async () => {
    const s = instance();
    for (let i = 0; i < 10; i++) await hit(s);
    window.down = true;
    await s.sync();
    expect(errors).toBe(1);
    // Its own 10 unsent hits still count: 30 more pass, the next is refused.
    for (let i = 0; i < LIMIT - 10; i++) expect((await hit(s)).isBlocked).toBe(false);
    expect((await hit(s)).isBlocked).toBe(true);
    window.down = false;
    await s.sync();
    const state = await window.add('203.0.113.7', 'default', 0, { ttl: TTL, limit: LIMIT, blockDuration: TTL });
    expect(state.totalHits).toBe(LIMIT + 1);
    expect(state.timeToBlockExpireMs).toBeGreaterThan(0);
  });

  it('does not lock a client out through a long Redis outage: each new window starts afresh here', async () => {
    const s = instance();
    window.down = true;
    for (let i = 0; i < LIMIT; i++) expect((await hit(s)).isBlocked).toBe(false);
    expect((await hit(s)).isBlocked).toBe(true);
    await s.sync();
    clock.now += 2 * TTL;
    await s.sync();
    expect(await hit(s)).toMatchObject({ isBlocked: false, totalHits: 1 });
    expect(errors).toBeGreaterThanOrEqual(1);
  });

  it('past maxLocalWindows, checks new clients in Redis directly', async () => {
    const s = instance(2);
    exact.increment.mockResolvedValue({ totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 });
    await hit(s, 'a');
    await hit(s, 'b');
    expect(exact.increment).not.toHaveBeenCalled();
    await hit(s, 'c');
    expect(exact.increment).toHaveBeenCalledWith('c', TTL, LIMIT, TTL, 'default');
  });

  it('hands over its unsent hits when the module stops', async () => {
    const s = instance();
    for (let i = 0; i < 5; i++) await hit(s);
    await s.onModuleDestroy();
    storages.splice(storages.indexOf(s), 1);
    expect(
      (await window.add('203.0.113.7', 'default', 0, { ttl: TTL, limit: LIMIT, blockDuration: TTL })).totalHits,
    ).toBe(5);
  });
});
