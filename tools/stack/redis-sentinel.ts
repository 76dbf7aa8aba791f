import { join } from 'node:path';
import { freePort, sleep } from './ports';
import { type RedisAddress, type RedisRole, SentinelProcess, SentinelRedisNode } from './redis-sentinel-node';
import { askedHealth, askedRole, type StackMember } from './stack-member';

export { type RedisAddress, type RedisRole, SentinelProcess, SentinelRedisNode } from './redis-sentinel-node';

export interface RedisSentinelGroupOptions {
  /** Logs go to dir/logs/<name>.log, data to dir/redis/<name>, Sentinel configs to dir/sentinel/<name>. */
  readonly dir: string;
  readonly masterName?: string;
  readonly replicas?: number;
  readonly sentinels?: number;
  readonly quorum?: number;
  readonly downAfterMs?: number;
  readonly failoverTimeoutMs?: number;
  /** 0 keeps a lone primary writable; 1 makes a primary cut off from every replica refuse writes (NOREPLICAS). */
  readonly minReplicasToWrite?: number;
  readonly minReplicasMaxLagS?: number;
  readonly startTimeoutMs?: number;
}

const HEALTH_TIMEOUT_MS = 500;

/** Redis under Sentinel as real processes: redis-1 (first primary), redis-2.., sentinel-1.. on free ports. */
export class RedisSentinelGroup {
  constructor(
    readonly masterName: string,
    readonly nodes: readonly SentinelRedisNode[],
    readonly sentinels: readonly SentinelProcess[],
  ) {}

  node(name: string): SentinelRedisNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no Redis node named ${name}`);
    return node;
  }

  sentinelAddresses(): RedisAddress[] {
    return this.sentinels.map((s) => s.address);
  }

  /**
   * The master most answering Sentinels name, asked in parallel with a short deadline; undefined if none
   * answers. During a failover they may briefly disagree, and the majority is the one clients will find.
   */
  async master(timeoutMs = 500): Promise<SentinelRedisNode | undefined> {
    const answers = await Promise.all(
      this.sentinels.filter((s) => s.process.state === 'running').map((s) => s.masterAddress(timeoutMs)),
    );
    const votes = new Map<number, number>();
    for (const a of answers) if (a) votes.set(a.port, (votes.get(a.port) ?? 0) + 1);
    const [best] = [...votes.entries()].sort((x, y) => y[1] - x[1]);
    return best ? this.nodes.find((n) => n.port === best[0]) : undefined;
  }

  /** Waits until the Sentinels name a master other than `excluding` and that node's ROLE says master. */
  async waitForMaster(excluding?: SentinelRedisNode, timeoutMs = 20_000): Promise<SentinelRedisNode> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const master = await this.master();
      if (master && master !== excluding && (await this.roleOf(master).catch(() => undefined))?.role === 'master') {
        return master;
      }
      if (Date.now() > deadline) {
        throw new Error(`no master other than ${excluding?.name ?? '(none)'} after ${timeoutMs} ms (${master?.name})`);
      }
      await sleep(50);
    }
  }

  roleOf(node: SentinelRedisNode, timeoutMs = 500): Promise<RedisRole> {
    return node.role(timeoutMs);
  }

  /**
   * Waits until every running node follows one master with a live link and every running Sentinel names that
   * master and sees all its running peers: a failover drill started earlier could find no quorum.
   */
  async waitUntilSettled(timeoutMs = 30_000): Promise<SentinelRedisNode> {
    const deadline = Date.now() + timeoutMs;
    let last: string;
    for (;;) {
      try {
        last = await this.unsettledReason();
        if (!last) return (await this.master())!;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`Sentinel group not settled after ${timeoutMs} ms: ${last}`);
      await sleep(100);
    }
  }

  /**
   * What the logs say about the failovers: the Sentinels' state changes and each data node's resyncs, in time
   * order. A drill prints them, so a slow failover in CI shows where the time went.
   */
  failoverEvents(): string[] {
    const wanted =
      /[+-](sdown|odown|try-failover|failover-|promoted-slave|slave-reconf|fix-slave-config|switch-master)|Full resync|Partial resync|Partial Resynchronization|Delay next BGSAVE|Synchronization with replica|MASTER MODE|REPLICAOF .* enabled/;
    return [...this.nodes, ...this.sentinels]
      .flatMap((m) =>
        m.process
          .logTail(Number.MAX_SAFE_INTEGER)
          .split('\n')
          .filter((line) => wanted.test(line))
          .map((line) => {
            // `pid:X 04 Dec 2026 21:20:11.165 * message`: sort on the time, keep the node's name.
            const t = /\d\d:\d\d:\d\d\.\d{3}/.exec(line)?.[0] ?? '';
            return `${t} ${m.name}: ${line.replace(/^.*?\d\d:\d\d:\d\d\.\d{3} . /, '').slice(0, 140)}`;
          }),
      )
      .sort();
  }

  /** Every member in the stack runner's shape, with the role in its health line. */
  members(): StackMember[] {
    const redis = this.nodes.map((node): StackMember => ({
      name: node.name,
      kind: 'redis',
      address: `127.0.0.1:${node.port}`,
      process: node.process,
      start: () => node.start(),
      stop: () => node.stop(),
      health: () => askedHealth(node.process, async () => `up (${(await node.role(HEALTH_TIMEOUT_MS)).role})`),
      // The stack's words for every tier: primary and replica (Redis says master and slave).
      role: () =>
        askedRole(node.process, async () => {
          const { role } = await node.role(HEALTH_TIMEOUT_MS);
          return role === 'master' ? 'primary' : role === 'slave' ? 'replica' : null;
        }),
    }));
    const sentinels = this.sentinels.map((s): StackMember => ({
      name: s.name,
      kind: 'sentinel',
      address: `127.0.0.1:${s.port}`,
      process: s.process,
      start: () => s.start(),
      stop: () => s.stop(),
      health: () =>
        askedHealth(s.process, async () => {
          const master = await s.masterAddress(HEALTH_TIMEOUT_MS);
          return master ? `up (master :${master.port})` : 'not responding';
        }),
    }));
    return [...redis, ...sentinels];
  }

  /** Sentinels first, so none of them fails over a primary that is merely being stopped. */
  async stop(): Promise<void> {
    for (const s of this.sentinels) if (s.process.state === 'frozen') s.process.thaw();
    await Promise.all(this.sentinels.map((s) => s.stop()));
    for (const n of this.nodes) if (n.process.state === 'frozen') n.process.thaw();
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  private async unsettledReason(): Promise<string> {
    const runningNodes = this.nodes.filter((n) => n.process.state === 'running');
    const runningSentinels = this.sentinels.filter((s) => s.process.state === 'running');
    const master = await this.master();
    if (!master || master.process.state !== 'running') return `master ${master?.name ?? '(none)'} not running`;
    const masterRole = await master.role();
    if (masterRole.role !== 'master') return `${master.name} is ${masterRole.role}`;
    for (const n of runningNodes) {
      if (n === master) continue;
      const r = await n.role();
      if (r.role !== 'slave' || r.masterPort !== master.port || r.linkState !== 'connected') {
        return `${n.name}: ${JSON.stringify(r)}`;
      }
    }
    for (const s of runningSentinels) {
      const state = await s.masterState();
      if (Number(state.get('port')) !== master.port) return `${s.name} names :${state.get('port')}`;
      if (Number(state.get('num-other-sentinels')) < runningSentinels.length - 1) {
        return `${s.name} sees ${state.get('num-other-sentinels')} other sentinels`;
      }
      if (state.get('flags') !== 'master') return `${s.name} flags ${state.get('flags')}`;
    }
    return '';
  }
}

/** Starts the primary, then its replicas, then the Sentinels, and waits until the group can fail over. */
export async function startRedisSentinelGroup(options: RedisSentinelGroupOptions): Promise<RedisSentinelGroup> {
  const masterName = options.masterName ?? 'z2m';
  const replicaCount = options.replicas ?? 2;
  const sentinelCount = options.sentinels ?? 3;
  const logs = join(options.dir, 'logs');
  let group: RedisSentinelGroup | undefined;
  const currentMaster = async () => (await group?.master())?.address;

  const nodes: SentinelRedisNode[] = [];
  for (let i = 1; i <= replicaCount + 1; i++) {
    const name = `redis-${i}`;
    nodes.push(
      new SentinelRedisNode(
        {
          name,
          port: await freePort(),
          dir: join(options.dir, 'redis', name),
          logFile: join(logs, `${name}.log`),
          minReplicasToWrite: options.minReplicasToWrite ?? 0,
          minReplicasMaxLagS: options.minReplicasMaxLagS ?? 10,
        },
        currentMaster,
      ),
    );
  }
  const primary = nodes[0]!;
  const sentinels: SentinelProcess[] = [];
  for (let i = 1; i <= sentinelCount; i++) {
    const name = `sentinel-${i}`;
    sentinels.push(
      new SentinelProcess({
        name,
        port: await freePort(),
        dir: join(options.dir, 'sentinel', name),
        logFile: join(logs, `${name}.log`),
        masterName,
        initialMasterPort: primary.port,
        quorum: options.quorum ?? Math.floor(sentinelCount / 2) + 1,
        downAfterMs: options.downAfterMs ?? 1000,
        failoverTimeoutMs: options.failoverTimeoutMs ?? 3000,
      }),
    );
  }
  group = new RedisSentinelGroup(masterName, nodes, sentinels);
  try {
    await primary.launch(undefined);
    await Promise.all(nodes.slice(1).map((n) => n.launch(primary.port)));
    await Promise.all(sentinels.map((s) => s.start()));
    await group.waitUntilSettled(options.startTimeoutMs ?? 30_000);
    return group;
  } catch (err) {
    await group.stop();
    throw err;
  }
}
