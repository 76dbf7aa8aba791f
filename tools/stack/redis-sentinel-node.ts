import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess } from './managed-process';
import { findRedisServer } from './redis-node';
import { respCommand, RespError } from './resp-command';

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

export type RedisRole =
  | { readonly role: 'master'; readonly replicaPorts: readonly number[] }
  | { readonly role: 'slave'; readonly masterPort: number; readonly linkState: string }
  | { readonly role: 'sentinel' };

export interface SentinelRedisNodeOptions {
  readonly name: string;
  readonly port: number;
  readonly dir: string;
  readonly logFile: string;
  readonly minReplicasToWrite: number;
  readonly minReplicasMaxLagS: number;
}

/** A redis-server of the group on 127.0.0.1 (a data node or a Sentinel): its process, name, port and address. */
abstract class LocalRedisServer {
  readonly process: ManagedProcess;

  protected constructor(
    private readonly identity: { readonly name: string; readonly port: number; readonly logFile: string },
    args: string[],
  ) {
    this.process = new ManagedProcess({
      name: identity.name,
      command: findRedisServer(),
      args,
      logFile: identity.logFile,
    });
  }

  get name(): string {
    return this.identity.name;
  }

  get port(): number {
    return this.identity.port;
  }

  get address(): RedisAddress {
    return { host: '127.0.0.1', port: this.port };
  }
}

/**
 * One data node of a Sentinel group. Its config file is written fresh on every start because Sentinel
 * rewrites it (CONFIG REWRITE on reconfiguration), and a returning node must follow today's master, not the
 * `replicaof` line of whatever role it last had.
 */
export class SentinelRedisNode extends LocalRedisServer {
  private readonly configFile: string;

  constructor(
    readonly options: SentinelRedisNodeOptions,
    private readonly currentMaster: () => Promise<RedisAddress | undefined>,
  ) {
    const configFile = join(options.dir, 'redis.conf');
    super(options, [configFile]);
    mkdirSync(options.dir, { recursive: true });
    this.configFile = configFile;
  }

  /**
   * Starts as a replica of the master the Sentinels name now. A node started without `replicaof` comes back
   * as an empty standalone primary until Sentinel converts it (seen for ~16 s), so that is refused.
   */
  async start(timeoutMs = 15_000): Promise<void> {
    const master = await this.currentMaster();
    if (!master) throw new Error(`${this.name}: no Sentinel names a master; refusing to start as a standalone primary`);
    // Sentinels still naming this node (restarted before a failover) is a plain restart from its own AOF.
    await this.launch(master.port === this.port ? undefined : master.port, timeoutMs);
  }

  /** Starts with an explicit role: `replicaOfPort` undefined means primary (the group's bootstrap only). */
  async launch(replicaOfPort: number | undefined, timeoutMs = 15_000): Promise<void> {
    writeFileSync(this.configFile, this.config(replicaOfPort));
    this.process.start();
    await this.process.waitUntil(async () => (await this.ping()) === 'PONG', {
      timeoutMs,
      intervalMs: 50,
      notReady: 'not ready',
    });
  }

  stop(): Promise<void> {
    return this.process.stop('SIGTERM', 10_000);
  }

  kill(): Promise<void> {
    return this.process.kill();
  }

  freeze(): void {
    this.process.freeze();
  }

  thaw(): void {
    this.process.thaw();
  }

  /** `ROLE`, parsed; rejects if the node does not answer within the deadline. */
  async role(timeoutMs = 500): Promise<RedisRole> {
    const reply = await respCommand(this.port, ['ROLE'], timeoutMs);
    if (!Array.isArray(reply)) throw new Error(`${this.name}: unexpected ROLE reply ${JSON.stringify(reply)}`);
    const [role] = reply;
    if (role === 'master') {
      const replicas = (reply[2] ?? []) as string[][];
      return { role, replicaPorts: replicas.map((r) => Number(r[1])) };
    }
    if (role === 'slave') return { role, masterPort: Number(reply[2]), linkState: String(reply[3]) };
    if (role === 'sentinel') return { role };
    throw new Error(`${this.name}: unexpected ROLE reply ${JSON.stringify(reply)}`);
  }

  /** 'PONG', or the error or timeout that stood in its way, never throwing. */
  async ping(timeoutMs = 500): Promise<string> {
    try {
      const reply = await respCommand(this.port, ['PING'], timeoutMs);
      return reply instanceof RespError ? reply.message : String(reply);
    } catch (err) {
      return (err as Error).message;
    }
  }

  private config(replicaOfPort: number | undefined): string {
    const o = this.options;
    return [
      `port ${o.port}`,
      'bind 127.0.0.1',
      `dir ${o.dir}`,
      'daemonize no',
      'logfile ""',
      // Queue state must survive a restart: append-only file, flushed every second (as RedisNode).
      'appendonly yes',
      'appendfsync everysec',
      'save ""',
      // Evicting a BullMQ key silently loses jobs; fail writes instead.
      'maxmemory-policy noeviction',
      // A full resync starts at once (default: wait 5 s for more replicas). After a failover, a replica that
      // cannot resync partially is the master's only "good replica" for min-replicas-to-write: every second of
      // delay is a second of NOREPLICAS for every write.
      'repl-diskless-sync-delay 0',
      // A primary cut off from every replica stops taking writes that a failover would throw away.
      `min-replicas-to-write ${o.minReplicasToWrite}`,
      `min-replicas-max-lag ${o.minReplicasMaxLagS}`,
      ...(replicaOfPort === undefined ? [] : [`replicaof 127.0.0.1 ${replicaOfPort}`]),
      '',
    ].join('\n');
  }
}

export interface SentinelProcessOptions {
  readonly name: string;
  readonly port: number;
  readonly dir: string;
  readonly logFile: string;
  readonly masterName: string;
  readonly initialMasterPort: number;
  readonly quorum: number;
  readonly downAfterMs: number;
  readonly failoverTimeoutMs: number;
}

/** One redis-sentinel. Its config is written once: Sentinel rewrites it with the epoch and the peers it learned. */
export class SentinelProcess extends LocalRedisServer {
  constructor(readonly options: SentinelProcessOptions) {
    const configFile = join(options.dir, 'sentinel.conf');
    super(options, [configFile, '--sentinel']);
    mkdirSync(options.dir, { recursive: true });
    if (!existsSync(configFile)) writeFileSync(configFile, this.initialConfig());
  }

  async start(timeoutMs = 15_000): Promise<void> {
    this.process.start();
    await this.process.waitUntil(async () => (await this.masterAddress(300)) !== undefined, {
      timeoutMs,
      intervalMs: 50,
      notReady: 'not ready',
    });
  }

  stop(): Promise<void> {
    return this.process.stop('SIGTERM', 10_000);
  }

  /** SENTINEL get-master-addr-by-name; undefined if this Sentinel does not answer in time. */
  async masterAddress(timeoutMs = 500): Promise<RedisAddress | undefined> {
    try {
      const reply = await respCommand(
        this.port,
        ['SENTINEL', 'get-master-addr-by-name', this.options.masterName],
        timeoutMs,
      );
      if (!Array.isArray(reply) || reply.length !== 2) return undefined;
      return { host: String(reply[0]), port: Number(reply[1]) };
    } catch {
      return undefined;
    }
  }

  /** SENTINEL master: the flat field list as a map (num-slaves, num-other-sentinels, flags, ...). */
  async masterState(timeoutMs = 500): Promise<Map<string, string>> {
    const reply = await respCommand(this.port, ['SENTINEL', 'master', this.options.masterName], timeoutMs);
    if (!Array.isArray(reply))
      throw new Error(`${this.name}: unexpected SENTINEL master reply ${JSON.stringify(reply)}`);
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), String(reply[i + 1]));
    return fields;
  }

  private initialConfig(): string {
    const o = this.options;
    return [
      `port ${o.port}`,
      'bind 127.0.0.1',
      'daemonize no',
      'logfile ""',
      `dir ${o.dir}`,
      `sentinel monitor ${o.masterName} 127.0.0.1 ${o.initialMasterPort} ${o.quorum}`,
      // Loopback drills: notice a dead primary in about a second instead of the default 30.
      `sentinel down-after-milliseconds ${o.masterName} ${o.downAfterMs}`,
      `sentinel failover-timeout ${o.masterName} ${o.failoverTimeoutMs}`,
      `sentinel parallel-syncs ${o.masterName} 1`,
      '',
    ].join('\n');
  }
}
