import type { ThrottlerStorage } from '@nestjs/throttler';
import { LocallySyncedStorage } from './locally-synced-storage';
import type { RedisWindow, WindowState } from './redis-window';

/**
 * The Redis script's semantics in memory (redis-window.ts): a hit counter per window and a block key of its own,
 * each with its own expiry (a block outlives the window it was set in, as the two keys do in Redis).
 */
class FakeWindow {
  calls = 0;
  /** Not connected: the storage must not send at all. */
  connected = true;
  /** Connected, but the reply is lost after Redis applied the command (a timeout, a connection cut mid-way). */
  loseReplies = false;
  /** When set, each call waits for it before it is applied (a sync in flight). */
  gate: Promise<void> | undefined;
  private readonly counters = new Map<string, { hits: number; expiresAt: number }>();
  private readonly blocks = new Map<string, number>();
  constructor(private readonly clock: { now: number }) {}

  async add(
    key: string,
    name: string,
    hits: number,
    limits: { ttl: number; limit: number; blockDuration: number },
  ): Promise<WindowState> {
    this.calls++;
    if (!this.connected) throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
    await this.gate;
    const state = this.apply(`${name}:${key}`, hits, limits);
    if (this.loseReplies) throw new Error('Redis did not reply within 1000 ms');
    return state;
  }

  /** What Redis holds for a client now, without adding anything. */
  peek(key: string, name = 'default'): { hits: number; blocked: boolean } {
    const id = `${name}:${key}`;
    const c = this.counters.get(id);
    return {
      hits: c && c.expiresAt > this.clock.now ? c.hits : 0,
      blocked: (this.blocks.get(id) ?? 0) > this.clock.now,
    };
  }

  private apply(id: string, hits: number, limits: { ttl: number; limit: number; blockDuration: number }) {
    const now = this.clock.now;
    let c = this.counters.get(id);
    if (!c || c.expiresAt <= now) this.counters.set(id, (c = { hits: 0, expiresAt: now + limits.ttl }));
    c.hits += hits;
    let blockedUntil = this.blocks.get(id) ?? 0;
    if (blockedUntil <= now && c.hits > limits.limit) this.blocks.set(id, (blockedUntil = now + limits.blockDuration));
    return {
      totalHits: c.hits,
      timeToExpireMs: c.expiresAt - now,
      timeToBlockExpireMs: Math.max(0, blockedUntil - now),
    };
  }
}

describe('LocallySyncedStorage', () => {
  const clock = { now: 1_000_000 };
  const LIMIT = 40;
  const TTL = 60_000;
  const CLIENT = '203.0.113.7';
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
  const hit = (s: LocallySyncedStorage, client = CLIENT, blockDuration = TTL) =>
    s.increment(client, TTL, LIMIT, blockDuration, 'default');

  beforeEach(() => {
    window = new FakeWindow(clock);
    exact = { increment: jest.fn() };
    errors = 0;
  });
  afterEach(async () => {
    Object.assign(window, { connected: true, loseReplies: false, gate: undefined });
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
    expect(window.peek(CLIENT)).toEqual({ hits: LIMIT + 1, blocked: true });
  });

  it('counts the hits of a blocked client too, as Redis and the exact mode do', async () => {
    const s = instance();
    for (let i = 0; i < LIMIT + 1; i++) await hit(s);
    await s.sync();
    for (let i = 0; i < 5; i++) expect((await hit(s)).isBlocked).toBe(true);
    await s.sync();
    expect(window.peek(CLIENT).hits).toBe(LIMIT + 6);
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

  it('behind many instances that each see a request only now and then: past the limit by at most one per instance', async () => {
    const fleet = Array.from({ length: 10 }, () => instance());
    // One request per sync interval, round robin: each instance decides on a total up to 10 intervals old.
    let admitted = 0;
    for (let i = 0; i < 200; i++) {
      if (!(await hit(fleet[i % fleet.length]!)).isBlocked) admitted++;
      clock.now += 100;
      await Promise.all(fleet.map((s) => s.sync()));
    }
    expect(admitted).toBeGreaterThan(LIMIT);
    expect(admitted).toBeLessThanOrEqual(LIMIT + 1 + fleet.length);
    for (const s of fleet) expect((await hit(s)).isBlocked).toBe(true);
  });

  it('counts the hits that arrive while a sync is in flight, and sends them with the next one', async () => {
    const s = instance();
    for (let i = 0; i < 10; i++) await hit(s);
    let release!: () => void;
    window.gate = new Promise<void>((resolve) => (release = resolve));
    const inFlight = s.sync();
    // Ten on their way, ten more here: all twenty count against the limit meanwhile.
    for (let i = 0; i < 10; i++) await hit(s);
    expect((await hit(s)).totalHits).toBe(21);
    release();
    await inFlight;
    window.gate = undefined;
    // The reply knew only the first ten; the eleven since are still this instance's own.
    expect((await hit(s)).totalHits).toBe(22);
    await s.sync();
    expect(window.peek(CLIENT).hits).toBe(22);
  });

  it('starts a new window when the old one has ended, and keeps a block until it expires', async () => {
    const s = instance();
    for (let i = 0; i <= LIMIT; i++) await hit(s, CLIENT, 2 * TTL);
    await s.sync();
    expect((await hit(s, CLIENT, 2 * TTL)).isBlocked).toBe(true);
    // The window has ended, the block (twice as long) has not: still refused, here and in Redis.
    clock.now += TTL + 1;
    expect((await hit(s, CLIENT, 2 * TTL)).isBlocked).toBe(true);
    await s.sync();
    expect(window.peek(CLIENT).blocked).toBe(true);
    clock.now += TTL;
    await s.sync();
    expect(await hit(s, CLIENT, 2 * TTL)).toMatchObject({ isBlocked: false, totalHits: 1 });
  });

  it('while not connected: sends nothing, counts the failure, limits by its own counts, then sends what it kept', async () => {
    const s = instance();
    for (let i = 0; i < 10; i++) await hit(s);
    window.connected = false;
    await s.sync();
    expect([errors, window.calls]).toEqual([1, 0]);
    // Its own 10 unsent hits still count: 30 more pass, the next is refused.
    for (let i = 0; i < LIMIT - 10; i++) expect((await hit(s)).isBlocked).toBe(false);
    expect((await hit(s)).isBlocked).toBe(true);
    window.connected = true;
    await s.sync();
    expect(window.peek(CLIENT)).toEqual({ hits: LIMIT + 1, blocked: true });
  });

  it('never sends a sync twice whose reply was lost: Redis may have applied it', async () => {
    const s = instance();
    for (let i = 0; i < 30; i++) await hit(s);
    window.loseReplies = true;
    await s.sync();
    expect(errors).toBe(1);
    window.loseReplies = false;
    for (let i = 0; i < 5; i++) await hit(s);
    await s.sync();
    // Applied once: resending the 30 would have made it 65, and blocked a client that kept to its limit of 40.
    expect(window.peek(CLIENT)).toEqual({ hits: 35, blocked: false });
    expect((await hit(s)).isBlocked).toBe(false);
  });

  it('does not lock a client out through a long Redis outage: each new window starts afresh here', async () => {
    const s = instance();
    window.connected = false;
    for (let i = 0; i < LIMIT; i++) expect((await hit(s)).isBlocked).toBe(false);
    expect((await hit(s)).isBlocked).toBe(true);
    await s.sync();
    clock.now += 2 * TTL;
    await s.sync();
    expect(await hit(s)).toMatchObject({ isBlocked: false, totalHits: 1 });
    expect(errors).toBeGreaterThanOrEqual(1);
  });

  it('drops the unsent hits of a client that does not come back, once their window has ended', async () => {
    const s = instance();
    window.connected = false;
    for (let i = 0; i < 20; i++) await hit(s);
    await s.sync();
    clock.now += TTL + 1;
    window.connected = true;
    await s.sync();
    // Nothing sent for a window that is over (Redis would have counted it in a new one), and nothing kept.
    expect(window.calls).toBe(0);
    expect(window.peek(CLIENT).hits).toBe(0);
    await s.sync();
    expect(window.calls).toBe(0);
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

  it('hands over its unsent hits when the module stops, those that came during a sync under way included', async () => {
    const s = instance();
    for (let i = 0; i < 5; i++) await hit(s);
    let release!: () => void;
    window.gate = new Promise<void>((resolve) => (release = resolve));
    const underWay = s.sync();
    for (let i = 0; i < 3; i++) await hit(s);
    const stopped = s.onModuleDestroy();
    storages.splice(storages.indexOf(s), 1);
    release();
    await Promise.all([underWay, stopped]);
    // The pass under way carried 5; only a second pass carries the 3 that came after it started.
    expect(window.peek(CLIENT).hits).toBe(8);
    expect(window.calls).toBe(2);
  });
});
