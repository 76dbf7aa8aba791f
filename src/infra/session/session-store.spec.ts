import { ServiceUnavailableException } from '@nestjs/common';
import type { RedisClient } from '../redis';
import { RedisSessionStore } from './session-store';

function fakeRedis(wait: () => Promise<number> = async () => 1, stored: Record<string, string> = {}) {
  const calls: string[] = [];
  const client = {
    get: jest.fn(async (key: string) => stored[key] ?? null),
    set: jest.fn(async (key: string, value: string, _ex: string, ttl: number, xx?: 'XX') => {
      calls.push(`SET ${key} EX ${ttl}${xx ? ' XX' : ''}`);
      if (xx && !(key in stored)) return null;
      stored[key] = value;
      return 'OK';
    }),
    wait: jest.fn(async (n: number, ms: number) => {
      calls.push(`WAIT ${n} ${ms}`);
      return wait();
    }),
  };
  return { calls, client: client as unknown as RedisClient };
}

/** A session whose stored copy was written `agoMs` ago. */
const writtenAgo = (agoMs: number) => ({ userId: 'u1', writtenAt: Date.now() - agoMs });

describe('RedisSessionStore', () => {
  const options = { ttlSeconds: 3600, deadlineMs: 200, replicaWaitMs: 250, touchAfterSeconds: 60 };

  describe('save', () => {
    it('waits for one replica when asked (a sign-in), and only then', async () => {
      const { calls, client } = fakeRedis();
      const store = new RedisSessionStore(client, options);
      await store.save('abc', writtenAgo(0), { replicate: true });
      await store.save('abc', writtenAgo(0));
      expect(calls).toEqual(['SET sess:abc EX 3600', 'WAIT 1 250', 'SET sess:abc EX 3600']);
    });

    it('lets a sign-in through when no replica confirmed in time (the session is on the master)', async () => {
      const { client } = fakeRedis(async () => 0);
      await expect(
        new RedisSessionStore(client, options).save('abc', writtenAgo(0), { replicate: true }),
      ).resolves.toBeUndefined();
    });

    it('fails the sign-in with a 503 when the master is lost before answering WAIT', async () => {
      const { client } = fakeRedis(async () => {
        throw new Error('Connection is closed.');
      });
      await expect(
        new RedisSessionStore(client, options).save('abc', writtenAgo(0), { replicate: true }),
      ).rejects.toBeInstanceOf(ServiceUnavailableException);
    });

    it('never waits when REDIS_REPLICA_WAIT_MS is 0', async () => {
      const { calls, client } = fakeRedis();
      await new RedisSessionStore(client, { ...options, replicaWaitMs: 0 }).save('abc', writtenAgo(0), {
        replicate: true,
      });
      expect(calls).toEqual(['SET sess:abc EX 3600']);
    });

    it('is a 503 when the write fails', async () => {
      const { client } = fakeRedis();
      (client.set as jest.Mock).mockRejectedValue(new Error('NOREPLICAS Not enough good replicas to write.'));
      await expect(new RedisSessionStore(client, options).save('abc', writtenAgo(0))).rejects.toBeInstanceOf(
        ServiceUnavailableException,
      );
    });
  });

  describe('load', () => {
    const load = (raw: string) =>
      new RedisSessionStore(fakeRedis(undefined, { 'sess:abc': raw }).client, options).load('abc');

    it('reads what save wrote', async () => {
      expect(await load(JSON.stringify({ userId: 'u1', writtenAt: 5 }))).toEqual({ userId: 'u1', writtenAt: 5 });
    });

    it('is null for a session that is not there', async () => {
      expect(await new RedisSessionStore(fakeRedis().client, options).load('abc')).toBeNull();
    });

    it('is null, not an error, for a value that is not a session', async () => {
      for (const raw of ['not json', 'null', '42', '{}', '{"userId":""}', '{"userId":7}']) {
        expect(await load(raw)).toBeNull();
      }
    });

    it('reads a session @fastify/session stored, as one whose touch is due', async () => {
      const legacy = { cookie: { originalMaxAge: 3_600_000, expires: new Date().toISOString() }, userId: 'u1' };
      expect(await load(JSON.stringify(legacy))).toEqual({ userId: 'u1', writtenAt: 0 });
    });

    it('is a 503 when Redis fails', async () => {
      const { client } = fakeRedis();
      (client.get as jest.Mock).mockRejectedValue(new Error('Connection is closed.'));
      await expect(new RedisSessionStore(client, options).load('abc')).rejects.toBeInstanceOf(
        ServiceUnavailableException,
      );
    });
  });

  describe('touch (a rolling write-back that only moves the expiry)', () => {
    it('writes back only once the stored copy is touchAfterSeconds old, with the new write time', async () => {
      const { calls, client } = fakeRedis(undefined, { 'sess:abc': '{}' });
      const store = new RedisSessionStore(client, options);
      expect(await store.touch('abc', writtenAgo(59_000))).toBe(true);
      expect(calls).toEqual([]);
      expect(await store.touch('abc', writtenAgo(61_000))).toBe(true);
      expect(calls).toEqual(['SET sess:abc EX 3600 XX']);
      const written = JSON.parse((client.set as jest.Mock).mock.calls[0][1] as string) as { writtenAt: number };
      expect(Date.now() - written.writtenAt).toBeLessThan(1000);
    });

    it('writes back every time when touchAfterSeconds is 0', async () => {
      const { calls, client } = fakeRedis();
      await new RedisSessionStore(client, { ...options, touchAfterSeconds: 0 }).touch('abc', writtenAgo(0));
      expect(calls).toEqual(['SET sess:abc EX 3600 XX']);
    });

    it('never waits for a replica', async () => {
      const { calls, client } = fakeRedis();
      await new RedisSessionStore(client, options).touch('abc', writtenAgo(120_000));
      expect(calls).toEqual(['SET sess:abc EX 3600 XX']);
    });

    it('never brings back a session ended while the request was in flight (SET XX), and says it is gone', async () => {
      const { calls, client } = fakeRedis();
      expect(await new RedisSessionStore(client, options).touch('abc', writtenAgo(120_000))).toBe(false);
      expect(calls).toEqual(['SET sess:abc EX 3600 XX']);
      expect(await new RedisSessionStore(client, options).load('abc')).toBeNull();
    });

    it('does not fail the request when the write fails: the stored session is still valid', async () => {
      const { client } = fakeRedis();
      (client.set as jest.Mock).mockRejectedValue(new Error('NOREPLICAS Not enough good replicas to write.'));
      await expect(new RedisSessionStore(client, options).touch('abc', writtenAgo(120_000))).resolves.toBe(true);
    });

    it('after a failed touch, skips touches for a while instead of paying the deadline on every request', async () => {
      const { client, calls } = fakeRedis();
      (client.set as jest.Mock).mockRejectedValueOnce(new Error('Command timed out'));
      const store = new RedisSessionStore(client, options);
      await store.touch('abc', writtenAgo(120_000));
      await store.touch('abc', writtenAgo(120_000));
      expect((client.set as jest.Mock).mock.calls).toHaveLength(1);
      // A sign-in's save is still written at once.
      await store.save('abc', writtenAgo(0));
      expect(calls).toEqual(['SET sess:abc EX 3600']);
    });
  });
});
