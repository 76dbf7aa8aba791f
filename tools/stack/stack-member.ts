import type { EtcdMember } from './etcd-cluster';
import type { ManagedProcess } from './managed-process';
import type { PatroniMember, PatroniStatus } from './patroni-member';
import type { PostgresNode } from './postgres-node';
import type { RedisNode } from './redis-node';
import { waitForHttp } from './node-programs';

export type MemberKind = 'postgres' | 'etcd' | 'redis' | 'sentinel' | 'api' | 'worker' | 'gateway';

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
  /** primary, replica, leader, ... where the kind has roles; null when it has none or cannot tell now. Never throws. */
  role?(): Promise<string | null>;
  /** The drills, where one process is not the whole member (Patroni and its postmaster); else on `process`. */
  kill?(): Promise<void>;
  /** kill -9 of the database process alone, its supervisor (Patroni) left running: only where there is one. */
  crash?(): Promise<void>;
  freeze?(): void;
  thaw?(): void;
}

const HEALTH_TIMEOUT_MS = 1000;

/** A member's health phrase: frozen or down without asking; else what `ask` says, or 'not responding'. */
export function askedHealth(proc: ManagedProcess, ask: () => Promise<string>): Promise<string> {
  if (proc.state !== 'running') return Promise.resolve(proc.state === 'frozen' ? 'frozen' : 'down');
  return ask().catch(() => 'not responding');
}

/** A member's role: null when it is not running or does not answer. */
export function askedRole(proc: ManagedProcess, ask: () => Promise<string | null>): Promise<string | null> {
  if (proc.state !== 'running') return Promise.resolve(null);
  return ask().catch(() => null);
}

export function postgresMember(node: PostgresNode): StackMember {
  return {
    name: node.name,
    kind: 'postgres',
    address: `127.0.0.1:${node.port}`,
    process: node.process,
    start: () => node.start(),
    stop: () => node.stop(),
    health: () =>
      askedHealth(node.process, async () =>
        (await node.isInRecovery(HEALTH_TIMEOUT_MS)) ? 'up (replica)' : 'up (primary)',
      ),
    role: () =>
      askedRole(node.process, async () => ((await node.isInRecovery(HEALTH_TIMEOUT_MS)) ? 'replica' : 'primary')),
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
    health: () =>
      askedHealth(redis.process, async () => ((await redis.ping(HEALTH_TIMEOUT_MS)) ? 'up' : 'not responding')),
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
  {
    healthPaths = ['/health/ready', '/health/live'],
    livePath = '/health/live',
    stopTimeoutMs = 30_000,
    servedBy,
  }: {
    healthPaths?: readonly string[];
    livePath?: string;
    stopTimeoutMs?: number;
    /** The x-served-by the program stamps on its answers: the start waits for it, not for any server on the port. */
    servedBy?: string;
  } = {},
): StackMember {
  const base = `http://127.0.0.1:${port}`;
  return {
    name: proc.name,
    kind,
    address: base,
    process: proc,
    start: async () => {
      proc.start();
      await waitForHttp(`${base}${livePath}`, proc, { servedBy });
    },
    stop: () => proc.stop('SIGTERM', stopTimeoutMs),
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

/** A PostgreSQL node under Patroni: its role is what Patroni says (primary, replica), and a drill hits both processes. */
export function patroniStackMember(member: PatroniMember): StackMember {
  const roleOf = (s: PatroniStatus) => (s.role === 'master' ? 'primary' : s.role);
  return {
    name: member.name,
    kind: 'postgres',
    address: `127.0.0.1:${member.port}`,
    process: member.process,
    start: () => member.start(),
    stop: () => member.stop(),
    kill: () => member.kill(),
    crash: () => member.crashPostgres(),
    freeze: () => member.freeze(),
    thaw: () => member.thaw(),
    role: () => askedRole(member.process, async () => roleOf(await member.status(HEALTH_TIMEOUT_MS))),
    health: () =>
      askedHealth(member.process, async () => {
        const s = await member.status(HEALTH_TIMEOUT_MS);
        return `${s.state} (${roleOf(s)})`;
      }),
  };
}

export function etcdStackMember(member: EtcdMember): StackMember {
  return {
    name: member.name,
    kind: 'etcd',
    address: member.clientUrl,
    process: member.process,
    start: () => member.start(),
    stop: () => member.stop(),
    health: () =>
      askedHealth(member.process, async () => ((await member.healthy(HEALTH_TIMEOUT_MS)) ? 'up' : 'not responding')),
  };
}
