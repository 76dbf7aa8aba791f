import type { Redis, RedisOptions } from 'ioredis';
import { loadConfig } from '../../config';
import { RedisConnections } from './redis-connections';
import { redisErrorCode } from './redis-options';

/** A stand-in client: records the options it was built with and how it was closed. */
function fakeClients() {
  const built: { options: RedisOptions; quit: jest.Mock; disconnect: jest.Mock }[] = [];
  const create = (options: RedisOptions): Redis => {
    const fake = { options, quit: jest.fn(async () => 'OK'), disconnect: jest.fn(), on: jest.fn() };
    built.push(fake);
    return fake as unknown as Redis;
  };
  return { built, create };
}

const SENTINEL_ENV = { INSTANCE_ID: 'api-1', REDIS_SENTINELS: '10.0.0.1:26379,10.0.0.2:26379', REDIS_PASSWORD: 's3' };

describe('RedisConnections', () => {
  it('builds a standalone client from REDIS_URL, fail-fast and named for CLIENT LIST', () => {
    const { built, create } = fakeClients();
    const config = loadConfig({ INSTANCE_ID: 'api-1', REDIS_URL: 'redis://user:p%40ss@cache.internal:6380/2' });
    new RedisConnections(config, create).client('sessions');
    expect(built[0]!.options).toMatchObject({
      host: 'cache.internal',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 2,
      connectionName: 'api-1:sessions',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 2000,
    });
    expect(built[0]!.options.sentinels).toBeUndefined();
  });

  it('builds every client through the Sentinels under REDIS_SENTINELS, with the master name and password', () => {
    const { built, create } = fakeClients();
    const redis = new RedisConnections(loadConfig(SENTINEL_ENV), create);
    redis.client('sessions');
    redis.client('cache');
    redis.client('rate-limit');
    const sentinel = {
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
      ],
      name: 'z2m',
      password: 's3',
      sentinelCommandTimeout: 500,
      connectTimeout: 500,
    };
    expect(built.map((b) => b.options)).toEqual([
      expect.objectContaining({ ...sentinel, connectionName: 'api-1:sessions' }),
      // The cache's deadline (CACHE_TIMEOUT_MS, 100 ms) is far shorter than the sessions'.
      expect.objectContaining({ ...sentinel, connectionName: 'api-1:cache', commandTimeout: 200 }),
      expect.objectContaining({ ...sentinel, connectionName: 'api-1:rate-limit', enableOfflineQueue: false }),
    ]);
    expect(built[0]!.options.host).toBeUndefined();
    for (const o of [redis.bullmqOptions('queue'), redis.bullmqOptions('worker', 'render')]) {
      expect(o).toMatchObject(sentinel);
    }
  });

  it('gives BullMQ fail-fast Queue options and patient Worker options', () => {
    const redis = new RedisConnections(loadConfig(SENTINEL_ENV), fakeClients().create);
    expect(redis.bullmqOptions('queue')).toMatchObject({
      connectionName: 'api-1:producer',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    });
    const worker = redis.bullmqOptions('worker', 'render');
    expect(worker).toMatchObject({ connectionName: 'api-1:render', maxRetriesPerRequest: null });
    expect(worker.enableOfflineQueue).toBeUndefined();
    expect(worker.commandTimeout).toBeUndefined();
  });

  it('shares one client per purpose and closes every client it built at shutdown', async () => {
    const { built, create } = fakeClients();
    const redis = new RedisConnections(loadConfig({}), create);
    expect(redis.client('sessions')).toBe(redis.client('sessions'));
    redis.client('cache');
    built[1]!.quit.mockRejectedValueOnce(new Error('Connection is closed'));
    await redis.onApplicationShutdown();
    expect(built.map((b) => b.quit.mock.calls.length)).toEqual([1, 1]);
    expect(built[1]!.disconnect).toHaveBeenCalled();
  });

  it('reconnects quickly and follows a demoted master that answers READONLY', () => {
    const options = new RedisConnections(loadConfig({}), fakeClients().create).bullmqOptions('queue');
    expect(options.retryStrategy(1)).toBeLessThan(150);
    expect(options.retryStrategy(100)).toBeLessThanOrEqual(550);
    const readonly = Object.assign(new Error("READONLY You can't write against a read only replica."), {
      name: 'ReplyError',
    });
    expect(redisErrorCode(readonly)).toBe('READONLY');
    expect(options.reconnectOnError?.(readonly)).toBe(2);
    expect(options.reconnectOnError?.(new Error('READONLY but not a reply'))).toBe(false);
  });
});
