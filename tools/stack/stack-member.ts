import type { ManagedProcess } from './managed-process';
import type { PostgresNode } from './postgres-node';
import type { RedisNode } from './redis-node';
import { waitForHttp } from './node-programs';

export type MemberKind = 'postgres' | 'redis' | 'api' | 'worker' | 'gateway';

/** One named process of the stack, as `status`, `stop`, `start` and the drills see it. */
export interface StackMember {
  readonly name: string;
  readonly kind: MemberKind;
  readonly address: string;
  readonly process: ManagedProcess;
  /** Start (again) and wait until it serves. */
  start(): Promise<void>;
  /** Graceful stop. */
  stop(): Promise<void>;
  /** One word or phrase for the status table, never throwing. */
  health(): Promise<string>;
}

const HEALTH_TIMEOUT_MS = 1000;

export function postgresMember(node: PostgresNode): StackMember {
  return {
    name: node.name,
    kind: 'postgres',
    address: `127.0.0.1:${node.port}`,
    process: node.process,
    start: () => node.start(),
    stop: () => node.stop(),
    health: async () => {
      if (node.process.state !== 'running') return node.process.state === 'frozen' ? 'frozen' : 'down';
      return node.isInRecovery(HEALTH_TIMEOUT_MS).then(
        (replica) => (replica ? 'up (replica)' : 'up (primary)'),
        () => 'not responding',
      );
    },
  };
}

export function redisMember(redis: RedisNode): StackMember {
  return {
    name: redis.process.name,
    kind: 'redis',
    address: `127.0.0.1:${redis.port}`,
    process: redis.process,
    start: () => redis.start(),
    stop: () => redis.stop(),
    health: async () => {
      if (redis.process.state !== 'running') return redis.process.state === 'frozen' ? 'frozen' : 'down';
      return (await redis.ping(HEALTH_TIMEOUT_MS)) ? 'up' : 'not responding';
    },
  };
}

/**
 * An HTTP program of this repo; `healthPaths` are tried in order and the first that answers reports;
 * `start` waits until `livePath` answers 2xx.
 */
export function httpMember(
  kind: 'api' | 'worker' | 'gateway',
  proc: ManagedProcess,
  port: number,
  healthPaths: readonly string[] = ['/health/ready', '/health/live'],
  livePath = '/health/live',
): StackMember {
  const base = `http://127.0.0.1:${port}`;
  return {
    name: proc.name,
    kind,
    address: base,
    process: proc,
    start: async () => {
      proc.start();
      await waitForHttp(`${base}${livePath}`, proc);
    },
    stop: () => proc.stop('SIGTERM', 30_000),
    health: async () => {
      if (proc.state !== 'running') return proc.state === 'frozen' ? 'frozen' : 'down';
      for (const path of healthPaths) {
        try {
          const res = await fetch(base + path, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
          if (res.status === 404) continue;
          const body = (await res.json().catch(() => ({}))) as { status?: string };
          return res.ok ? (body.status ?? 'up') : `${res.status} ${body.status ?? ''}`.trim();
        } catch {
          return 'not responding';
        }
      }
      return 'up';
    },
  };
}
