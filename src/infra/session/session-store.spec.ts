import { ServiceUnavailableException } from '@nestjs/common';
import type { Session } from 'fastify';
import type { RedisClient } from '../redis';
import { RedisSessionStore, replicateOnNextSave } from './session-store';

function fakeRedis(wait: () => Promise<number>) {
  const calls: string[] = [];
  const client = {
    set: jest.fn(async (key: string, _value: string, _ex: string, ttl: number) => {
      calls.push(`SET ${key} EX ${ttl}`);
      return 'OK';
    }),
    wait: jest.fn(async (n: number, ms: number) => {
      calls.push(`WAIT ${n} ${ms}`);
      return wait();
    }),
  };
  return { calls, client: client as unknown as RedisClient };
}

/** A session as @fastify/session restores it: stored `writtenAgoMs` ago, content unchanged unless `modified`. */
const restored = (writtenAgoMs: number, modified = false) =>
  ({
    userId: 'u1',
    cookie: {
      expires: new Date(Date.now() + 3_600_000),
      originalMaxAge: 3_600_000,
      originalExpires: new Date(Date.now() - writtenAgoMs + 3_600_000),
    },
    isModified: () => modified,
  }) as unknown as Session;

const session = () => ({ userId: 'u1', cookie: { expires: new Date(Date.now() + 60_000) } }) as unknown as Session;
const save = (store: RedisSessionStore, s: Session) =>
  new Promise<unknown>((resolve) => store.set('abc', s, (err) => resolve(err)));

describe('RedisSessionStore', () => {
  const options = { ttlSeconds: 3600, deadlineMs: 200, replicaWaitMs: 250, touchAfterSeconds: 60 };

  it('waits for one replica after the save that follows a sign-in, and only then', async () => {
    const { calls, client } = fakeRedis(async () => 1);
    const store = new RedisSessionStore(client, options);
    const s = session();
    replicateOnNextSave(s);
    expect(await save(store, s)).toBeUndefined();
    expect(await save(store, s)).toBeUndefined();
    expect(calls).toEqual(['SET sess:abc EX 60', 'WAIT 1 250', 'SET sess:abc EX 60']);
  });

  it('lets a sign-in through when no replica confirmed in time (the session is on the master)', async () => {
    const { client } = fakeRedis(async () => 0);
    const s = session();
    replicateOnNextSave(s);
    expect(await save(new RedisSessionStore(client, options), s)).toBeUndefined();
  });

  it('fails the sign-in with a 503 when the master is lost before answering WAIT', async () => {
    const { client } = fakeRedis(async () => {
      throw new Error('Connection is closed.');
    });
    const s = session();
    replicateOnNextSave(s);
    expect(await save(new RedisSessionStore(client, options), s)).toBeInstanceOf(ServiceUnavailableException);
  });

  it('never waits when REDIS_REPLICA_WAIT_MS is 0', async () => {
    const { calls, client } = fakeRedis(async () => 1);
    const s = session();
    replicateOnNextSave(s);
    await save(new RedisSessionStore(client, { ...options, replicaWaitMs: 0 }), s);
    expect(calls).toEqual(['SET sess:abc EX 60']);
  });

  describe('an unchanged session (a rolling save only moves its expiry)', () => {
    it('is written back only once its stored copy is touchAfterSeconds old', async () => {
      const { calls, client } = fakeRedis(async () => 1);
      const store = new RedisSessionStore(client, options);
      expect(await save(store, restored(59_000))).toBeUndefined();
      expect(calls).toEqual([]);
      expect(await save(store, restored(61_000))).toBeUndefined();
      expect(calls).toEqual(['SET sess:abc EX 3600']);
    });

    it('is written back every time when touchAfterSeconds is 0', async () => {
      const { calls, client } = fakeRedis(async () => 1);
      await save(new RedisSessionStore(client, { ...options, touchAfterSeconds: 0 }), restored(0));
      expect(calls).toEqual(['SET sess:abc EX 3600']);
    });

    it('does not fail the request when the touch fails: the stored session is still valid', async () => {
      const { client } = fakeRedis(async () => 1);
      (client.set as jest.Mock).mockRejectedValue(new Error('NOREPLICAS Not enough good replicas to write.'));
      expect(await save(new RedisSessionStore(client, options), restored(120_000))).toBeUndefined();
    });

    it('after a failed touch, skips touches for a while instead of paying the deadline on every request', async () => {
      const { client, calls } = fakeRedis(async () => 1);
      (client.set as jest.Mock).mockRejectedValueOnce(new Error('Command timed out'));
      const store = new RedisSessionStore(client, options);
      expect(await save(store, restored(120_000))).toBeUndefined();
      expect(await save(store, restored(120_000))).toBeUndefined();
      expect((client.set as jest.Mock).mock.calls).toHaveLength(1);
      // A changed session is still written at once.
      expect(await save(store, restored(0, true))).toBeUndefined();
      expect(calls).toEqual(['SET sess:abc EX 3600']);
    });

    it('a changed session whose write fails is still a 503', async () => {
      const { client } = fakeRedis(async () => 1);
      (client.set as jest.Mock).mockRejectedValue(new Error('NOREPLICAS Not enough good replicas to write.'));
      expect(await save(new RedisSessionStore(client, options), restored(0, true))).toBeInstanceOf(
        ServiceUnavailableException,
      );
    });
  });
});
