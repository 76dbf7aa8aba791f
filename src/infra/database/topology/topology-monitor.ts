import { Logger } from '@nestjs/common';
import type { DbNodeConfig } from '../../../config';
import { DbNode, type NodePoolSettings, type NodeRole, type NodeState } from './db-node';
import type { Lsn } from './lsn';
import { NodeListFile } from './node-list-file';
import { probeNode } from './node-probe';
import { electPrimary } from './primary-election';
import { ProbeLoop } from './probe-loop';
import { PrimaryWalHistory, replicaLag } from './replication-lag';

export interface TopologySettings extends NodePoolSettings {
  readonly nodes: readonly DbNodeConfig[];
  readonly nodesFile?: string;
  readonly intervalMs: number;
  readonly maxLagMs: number;
  readonly maxLagBytes: number;
}

export interface TopologyListener {
  nodesChanged?(nodes: readonly DbNode[]): void;
  primaryChanged?(primary: DbNode | undefined, previous: DbNode | undefined): void;
}

/**
 * Knows which node is the primary and which replicas may serve reads, by asking every configured node
 * (pg_is_in_recovery, WAL positions, timeline) about once a second, and at once after a query failed on one.
 * Every node is a candidate for either role, so a promotion is followed without a restart or a config change.
 */
export class TopologyMonitor {
  private readonly logger = new Logger('DatabaseTopology');
  private readonly nodes = new Map<string, DbNode>();
  private readonly loops = new Map<DbNode, ProbeLoop>();
  private readonly listeners: TopologyListener[] = [];
  private readonly history: PrimaryWalHistory;
  private readonly file?: NodeListFile;
  private elected?: DbNode;
  private timelineFloor = 0;
  private recordedPrimaryAt = 0;
  private starting?: Promise<void>;
  /** True once start() resolved: the hot path checks this instead of awaiting a settled promise per query. */
  started = false;
  private fileTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly settings: TopologySettings) {
    this.history = new PrimaryWalHistory(Math.max(60_000, settings.maxLagMs * 2));
    this.file = settings.nodesFile ? new NodeListFile(settings.nodesFile) : undefined;
  }

  /** Idempotent. Resolves once every node answered or failed one probe: bounded by the connect timeout, never by a dead node. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      this.sync((await this.readNodeFile()) ?? this.settings.nodes);
      this.scheduleNodeFile();
      await Promise.all([...this.loops.values()].map((l) => l.firstProbe));
      this.started = true;
    })();
    return this.starting;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.fileTimer);
    for (const loop of this.loops.values()) loop.stop();
    await Promise.all([...this.nodes.values()].map((n) => n.close(this.settings.connectTimeoutMs)));
  }

  subscribe(listener: TopologyListener): void {
    this.listeners.push(listener);
  }

  all(): readonly DbNode[] {
    return [...this.nodes.values()];
  }

  /** The node writes go to: elected, reachable, and not under suspicion since a failed query. */
  primary(): DbNode | undefined {
    const p = this.elected;
    return p?.reachable && p.failedAt === undefined ? p : undefined;
  }

  /** Replicas that may take a read now: reachable, not suspect, within the lag limits. In configuration order. */
  readableReplicas(except?: ReadonlySet<DbNode>): DbNode[] {
    const out: DbNode[] = [];
    for (const n of this.nodes.values())
      if (n.role === 'replica' && n.state === 'healthy' && !except?.has(n)) out.push(n);
    return out;
  }

  serverVersion(): string | undefined {
    return this.all().find((n) => n.observation)?.observation?.serverVersion;
  }

  searchSchema(): string | undefined {
    return this.all().find((n) => n.observation)?.observation?.searchSchema;
  }

  /** Passive check: a query failed on the node, so keep it out of rotation until a probe says otherwise. */
  reportFailure(node: DbNode, err: unknown): void {
    if (this.nodes.get(node.name) !== node || this.stopped) return;
    if (node.failedAt === undefined) {
      node.failedAt = Date.now();
      node.lastError = messageOf(err);
      this.logger.warn(`${node.name}: ${node.lastError}; out of rotation until a probe succeeds`);
    }
    this.loops.get(node)?.now();
    // A primary failing is how a failover starts: look for the new one everywhere, now.
    if (node === this.elected) for (const loop of this.loops.values()) loop.now();
  }

  /** A live check saw the replica further along than its last probe did. */
  noteReplayed(node: DbNode, lsn: Lsn): void {
    if (lsn > node.replayLsn) node.replayLsn = lsn;
  }

  private async probe(node: DbNode): Promise<void> {
    let observed: Awaited<ReturnType<typeof probeNode>> | Error;
    try {
      observed = await probeNode(node.probePool);
    } catch (err) {
      observed = err instanceof Error ? err : new Error(String(err));
    }
    if (this.nodes.get(node.name) !== node || this.stopped) return;
    // One probe can change other nodes too (a new primary fences the old one; a primary position makes replicas lag).
    const before = new Map(this.all().map((n) => [n, { state: n.state, role: n.role }]));
    if (observed instanceof Error) node.unreachable(observed.message);
    else node.observed(observed);
    this.reconcile();
    for (const [n, was] of before) this.logTransition(n, was);
  }

  /** Elects the primary among the claimants, fences the losers, and measures every replica's lag against it. */
  private reconcile(): void {
    const nodes = this.all();
    let floor = this.timelineFloor;
    for (const n of nodes)
      if (n.reachable && n.observation?.inRecovery && n.observation.timeline)
        floor = Math.max(floor, n.observation.timeline);
    const claims = nodes.flatMap((n) =>
      n.reachable && n.observation && !n.observation.inRecovery && n.observation.timeline !== null
        ? [{ name: n.name, timeline: n.observation.timeline }]
        : [],
    );
    const election = electPrimary(claims, floor);
    this.timelineFloor = election.timelineFloor;
    for (const n of nodes) n.fenced = election.fenced.includes(n.name);
    const primary = election.primary === undefined ? undefined : this.nodes.get(election.primary);
    if (primary !== this.elected) this.primaryChanged(primary);
    if (primary?.observation && primary.observation.at > this.recordedPrimaryAt) {
      this.history.record(primary.observation.lsn, primary.observation.at);
      this.recordedPrimaryAt = primary.observation.at;
    }
    const now = Date.now();
    for (const n of nodes) {
      const o = n.observation;
      n.lag = n.reachable && o?.inRecovery ? replicaLag(n.replayLsn, o.replayAgeSeconds, this.history, now) : undefined;
      n.lagging =
        n.lag !== undefined &&
        (n.lag.seconds * 1000 > this.settings.maxLagMs || n.lag.bytes > this.settings.maxLagBytes);
    }
  }

  private primaryChanged(primary: DbNode | undefined): void {
    const previous = this.elected;
    this.elected = primary;
    this.history.reset();
    this.recordedPrimaryAt = 0;
    if (primary)
      this.logger.warn(
        `primary is now ${primary.name} (timeline ${primary.observation?.timeline})${previous ? `, was ${previous.name}` : ''}`,
      );
    else
      this.logger.error(
        `no primary${previous ? ` (${previous.name} is ${previous.state})` : ''}: writes answer 503 until one is found`,
      );
    for (const l of this.listeners) l.primaryChanged?.(primary, previous);
  }

  private logTransition(node: DbNode, before: { state: NodeState; role: NodeRole }): void {
    if (node.state === before.state && node.role === before.role) return;
    const what = `${node.name}: ${before.role}/${before.state} -> ${node.role}/${node.state}`;
    if (node.state === 'fenced') {
      const winner = this.elected ? `${this.elected.name} is the primary` : `timeline ${this.timelineFloor} was seen`;
      this.logger.error(
        `${what}: claims the primary role on timeline ${node.observation?.timeline}, but ${winner}; never used while it claims it`,
      );
    } else if (node.state === 'healthy') this.logger.log(what);
    else this.logger.warn(`${what}${node.lastError ? ` (${node.lastError})` : ''}`);
  }

  private nextDelay(): number {
    // Faster while there is no primary, so a promotion is noticed within a fraction of the interval.
    const base = this.elected ? this.settings.intervalMs : this.settings.intervalMs / 4;
    return base * (0.8 + Math.random() * 0.4);
  }

  private sync(configs: readonly DbNodeConfig[]): void {
    const wanted = new Map(configs.map((c) => [c.name, c]));
    for (const node of this.all()) {
      if (wanted.get(node.name)?.url === node.config.url) continue;
      this.nodes.delete(node.name);
      this.loops.get(node)?.stop();
      this.loops.delete(node);
      void node.close(this.settings.connectTimeoutMs);
      this.logger.warn(`${node.name}: removed from the node list`);
    }
    for (const config of configs) {
      if (this.nodes.has(config.name)) continue;
      const node = new DbNode(config, this.settings);
      // Idle connections die with their server; that is news for the monitor, not a crash.
      node.pool.on('error', (err) => this.reportFailure(node, err));
      node.probePool.on('error', () => undefined);
      const loop = new ProbeLoop(
        () => this.probe(node),
        () => this.nextDelay(),
      );
      this.nodes.set(config.name, node);
      this.loops.set(node, loop);
      loop.start();
    }
    this.reconcile();
    for (const l of this.listeners) l.nodesChanged?.(this.all());
  }

  private async readNodeFile(): Promise<readonly DbNodeConfig[] | undefined> {
    if (!this.file) return undefined;
    const read = await this.file.read();
    if (read.kind === 'nodes') return read.nodes;
    if (read.kind === 'invalid') {
      this.logger.error(
        `DB_NODES_FILE ${this.file.path} ${read.problem}; keeping the ${this.nodes.size ? 'current' : 'configured'} node list`,
      );
    }
    return undefined;
  }

  private scheduleNodeFile(): void {
    if (!this.file || this.stopped) return;
    this.fileTimer = setTimeout(() => {
      void this.readNodeFile()
        .then((nodes) => nodes && !this.stopped && this.sync(nodes))
        .finally(() => this.scheduleNodeFile());
    }, this.settings.intervalMs);
    this.fileTimer.unref();
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
