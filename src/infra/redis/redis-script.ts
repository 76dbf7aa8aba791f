import type { Redis } from 'ioredis';

/** A Lua script bound to a client: EVALSHA, falling back to EVAL on NOSCRIPT (a new master after a failover has none). */
export type RedisScript = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

type WithScripts = Record<string, (...keysThenArgs: (string | number)[]) => Promise<unknown>>;

export function defineScript(client: Redis, name: string, numberOfKeys: number, lua: string): RedisScript {
  client.defineCommand(name, { numberOfKeys, lua });
  return (keys, args) => (client as unknown as WithScripts)[name]!(...keys, ...args);
}
