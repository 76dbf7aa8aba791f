import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeProgram, runMigrations } from './node-programs';
import { type PatroniCluster, startPatroniCluster } from './patroni-cluster';
import { startPostgresCluster, type PostgresCluster } from './postgres-cluster';
import { reservePorts, waitForPort } from './ports';
import { RedisNode } from './redis-node';
import { type RedisSentinelGroup, startRedisSentinelGroup } from './redis-sentinel';
import { type AutoscalePolicy, readBacklogAt, WorkerAutoscaler, type WorkerBounds } from './worker-autoscaler';
import {
  etcdStackMember,
  httpMember,
  type MemberKind,
  patroniStackMember,
  postgresMember,
  redisMember,
  type StackMember,
} from './stack-member';

export interface StackOptions {
  /** Where data, logs and the control socket live (.stack/). */
  readonly root: string;
  readonly apis: number;
  readonly apiPort: number;
  /** The gateway, the stack's one public entry, in front of every API instance. */
  readonly gatewayPort: number;
  /** Queue workers (node dist/worker.js); each serves health and metrics on workerPort + i. */
  readonly workers: number;
  /** --autoscale-workers: worker processes follow the queue's backlog between these bounds (workers = min at start). */
  readonly autoscale?: { readonly bounds: WorkerBounds; readonly policy: AutoscalePolicy };
  readonly workerPort: number;
  readonly replicas: number;
  readonly pgPort: number;
  readonly redisPort: number;
  readonly synchronous: boolean;
  /**
   * ha: PostgreSQL under Patroni (etcd as its store), which fails over by itself. simple: one primary and plain
   * streaming replicas, failed over by hand (`promote`).
   */
  readonly topology: 'ha' | 'simple';
}

/** The master name the Sentinels watch, and every client asks them for. */
const REDIS_MASTER_NAME = 'z2m';

export interface MemberStatus {
  readonly name: string;
  readonly pid: number | null;
  readonly address: string;
  readonly kind: MemberKind;
  readonly role: string | null;
  readonly state: string;
  readonly health: string;
}

/** The whole local architecture as named processes: what `npm run stack` runs in the foreground. */
export class LocalStack {
  readonly members = new Map<string, StackMember>();
  private cluster?: PostgresCluster;
  private patroni?: PatroniCluster;
  private sentinel?: RedisSentinelGroup;
  private readonly sessionSecret = randomBytes(32).toString('base64url');
  /** Per run, like the session secret; printed by the runner for the queue dashboard. */
  readonly adminToken = randomBytes(32).toString('base64url');
  /** Opens the gateway's purge route alone: what the APIs and workers hold to purge the pages they changed. */
  private readonly purgeToken = randomBytes(32).toString('base64url');
  private readonly gatewayToken = randomBytes(24).toString('base64url');
  /** Follows the queue's backlog with worker processes, once the stack is up (--autoscale-workers). */
  autoscaler?: WorkerAutoscaler;
  /** Called when a process exits other than by an autoscaler drain (the runner logs it). */
  onExit?: (member: StackMember, code: number | null, signal: NodeJS.Signals | null) => void;
  /** Workers the autoscaler is draining, and the drains under way (shutdown waits for them). */
  private readonly draining = new Set<StackMember>();
  private readonly drains = new Set<Promise<void>>();

  constructor(readonly options: StackOptions) {}

  get logDir(): string {
    return join(this.options.root, 'logs');
  }

  async up(log: (line: string) => void): Promise<void> {
    const { root, replicas, pgPort, redisPort, synchronous } = this.options;
    killLeftovers(root, log);
    await assertPortsFree(this.allPorts());
    // Patroni's, etcd's and Sentinel's ports are picked below; none may be one an API or a worker binds later.
    reservePorts(this.allPorts());
    // Each run starts from a clean slate; the stack is a lab, not a place to keep data.
    for (const sub of ['pg', 'patroni', 'etcd', 'redis', 'sentinel', 'logs'])
      rmSync(join(root, sub), { recursive: true, force: true });
    mkdirSync(this.logDir, { recursive: true });

    const pgPorts = Array.from({ length: replicas + 1 }, (_, i) => pgPort + i);
    if (this.options.topology === 'ha') {
      log(
        `starting etcd x3 and ${replicas + 1} PostgreSQL members under Patroni (synchronous mode), ` +
          'and Redis x3 under 3 Sentinels...',
      );
      const [patroni, sentinel] = await Promise.all([
        startPatroniCluster({ dir: root, size: replicas + 1, pgPorts, log, returnAtLeader: true }),
        startRedisSentinelGroup({ dir: root, masterName: REDIS_MASTER_NAME, replicas: 2, sentinels: 3 }),
      ]);
      this.patroni = patroni;
      this.sentinel = sentinel;
      for (const member of patroni.etcd.members) this.add(etcdStackMember(member));
      for (const member of patroni.nodes) this.add(patroniStackMember(member));
      for (const member of sentinel.members()) this.add(member);
    } else {
      const redis = new RedisNode({
        port: redisPort,
        dataDir: join(root, 'redis'),
        logFile: join(this.logDir, 'redis.log'),
      });
      log(
        `starting PostgreSQL primary + ${replicas} streaming replica(s)${synchronous ? ' (synchronous)' : ''} and Redis...`,
      );
      const [cluster] = await Promise.all([
        startPostgresCluster({ dir: root, primaryPort: pgPort, replicaPorts: pgPorts.slice(1), synchronous }),
        redis.start(),
      ]);
      this.cluster = cluster;
      for (const node of cluster.nodes) this.add(postgresMember(node));
      this.add(redisMember(redis));
    }
    this.savePids();
    this.writeNodesFile();

    const apis = Array.from({ length: this.options.apis }, (_, i) => this.apiMember(i + 1));
    const workers = Array.from({ length: this.options.workers }, (_, i) => this.workerMember(i + 1));
    // Migrations, APIs and workers need only the primary: under Patroni they overlap the replicas' cloning, and
    // the APIs' topology monitors pick the replicas up as they come. The stack is up once both are done.
    await Promise.all([this.patroni?.waitForReplication(log), this.startPrograms([...apis, ...workers], log)]);

    // After the APIs: a gateway that checked them before they listened would hold them out until `rise` passes.
    log('starting the gateway in front of them...');
    const gateway = this.gatewayMember(apis);
    this.add(gateway);
    await gateway.start();
    this.savePids();
    if (this.options.autoscale) this.startAutoscaler(this.options.autoscale, log);
  }

  private startAutoscaler({ bounds, policy }: NonNullable<StackOptions['autoscale']>, log: (l: string) => void): void {
    this.autoscaler = new WorkerAutoscaler(
      {
        readBacklog: () => this.queueBacklog(),
        current: () => this.runningWorkers().length,
        scaleTo: (n, why) => this.scaleWorkers(n, why, log),
        log,
      },
      bounds,
      policy,
    );
    this.autoscaler.start();
    log(
      `autoscaling workers ${bounds.min}..${bounds.max}: ${policy.targetPerWorker} queued jobs per worker, ` +
        `scale-down after ${policy.scaleDownWindowMs / 1000} s below (docs/queue.md)`,
    );
  }

  /** The backlog as the workers (else the APIs) export it for KEDA: the first process that answers. */
  private async queueBacklog(): Promise<number | undefined> {
    const sources = [...this.runningWorkers(), ...[...this.members.values()].filter((m) => m.kind === 'api')];
    for (const m of sources) {
      const backlog = await readBacklogAt(m.address);
      if (backlog !== undefined) return backlog;
    }
    return undefined;
  }

  /** Workers serving now: running and not being drained. */
  runningWorkers(): StackMember[] {
    return [...this.members.values()].filter(
      (m) => m.kind === 'worker' && m.process.state === 'running' && !this.draining.has(m),
    );
  }

  /** True while the autoscaler drains this worker: its exit is intended. */
  isDraining(m: StackMember): boolean {
    return this.draining.has(m);
  }

  /**
   * Starts workers or drains the highest-numbered ones until `n` serve, and tells the gateway's live page which
   * workers to read. Names stay within worker-1..MAX (an exited one is started again), so ports stay within the
   * ones reserved. A drain goes on in the background: a new burst can add workers while old ones finish their jobs.
   */
  async scaleWorkers(n: number, why: string, log: (line: string) => void): Promise<void> {
    const running = this.runningWorkers();
    const max = this.options.autoscale?.bounds.max ?? n;
    if (n > running.length) {
      const added: StackMember[] = [];
      for (let i = 1; i <= max && added.length < n - running.length; i++) {
        const existing = this.members.get(`worker-${i}`);
        if (existing === undefined) added.push(this.workerMember(i));
        else if (existing.process.state === 'exited' && !this.draining.has(existing)) added.push(existing);
      }
      if (!added.length) return log(`autoscale: wanted ${n} worker(s), but worker-1..${max} are all busy or draining`);
      log(`autoscale: ${running.length} -> ${n} worker(s) (${why}): starting ${added.map((m) => m.name).join(', ')}`);
      await Promise.all(
        added.map(async (m) => {
          if (this.members.get(m.name) !== m) this.add(m);
          try {
            await m.start();
            await this.observeWorker('add', m);
          } catch (err) {
            log(`autoscale: ${m.name} did not start: ${(err as Error).message}`);
            await m.stop().catch(() => undefined);
          }
        }),
      );
    } else if (n < running.length) {
      const byIndex = (m: StackMember) => Number(m.name.slice('worker-'.length));
      const drained = running.sort((a, b) => byIndex(b) - byIndex(a)).slice(0, running.length - n);
      log(`autoscale: ${running.length} -> ${n} worker(s) (${why}): draining ${drained.map((m) => m.name).join(', ')}`);
      for (const m of drained) {
        this.draining.add(m);
        const drain = (async () => {
          await this.observeWorker('remove', m);
          await m.stop().catch(() => undefined);
          this.draining.delete(m);
          // Only if it is still this instance and it did exit: a name started again meanwhile stays.
          if (this.members.get(m.name) === m && m.process.state === 'exited') this.members.delete(m.name);
          this.savePids();
        })();
        this.drains.add(drain);
        void drain.finally(() => this.drains.delete(drain));
      }
    }
    this.savePids();
  }

  /** POST /_gateway/architecture/workers: the live page reads the workers that run, no more, no fewer. */
  private async observeWorker(action: 'add' | 'remove', worker: StackMember): Promise<void> {
    await fetch(`http://127.0.0.1:${this.options.gatewayPort}/_gateway/architecture/workers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.gatewayToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action, url: worker.address }),
      signal: AbortSignal.timeout(2000),
    }).catch(() => undefined);
  }

  private async startPrograms(programs: readonly StackMember[], log: (line: string) => void): Promise<void> {
    log('running migrations...');
    await runMigrations(this.sharedEnv());
    // The workers need only the schema and Redis: they start beside the APIs, not after them.
    log(`starting ${this.options.apis} API instance(s) and ${this.options.workers} queue worker(s)...`);
    for (const m of programs) this.add(m);
    await Promise.all(programs.map((m) => m.start()));
    this.savePids();
  }

  /** Stops APIs first (they drain), then Redis, then replicas, then the primary. */
  async down(): Promise<void> {
    // No new scale decision, and none half done: a worker being started must be in the list that is stopped.
    this.autoscaler?.stop();
    await this.autoscaler?.idle();
    await Promise.all(this.drains);
    const byKind = (kinds: string[]) => [...this.members.values()].filter((m) => kinds.includes(m.kind));
    await Promise.all(byKind(['gateway']).map((m) => m.stop()));
    await Promise.all(byKind(['api', 'worker']).map((m) => m.stop()));
    // Sentinels first, so none of them fails over a Redis that is merely being stopped.
    await Promise.all(byKind(['sentinel']).map((m) => m.stop()));
    await Promise.all(byKind(['redis']).map((m) => m.stop()));
    const pg = byKind(['postgres']);
    // Replicas first, so the primary's last commits need no standby that is already gone.
    const roles = await Promise.all(pg.map(async (m) => (m.role ? await m.role() : null)));
    await Promise.all(pg.filter((_, i) => roles[i] !== 'primary').map((m) => m.stop()));
    await Promise.all(pg.filter((_, i) => roles[i] === 'primary').map((m) => m.stop()));
    await Promise.all(byKind(['etcd']).map((m) => m.stop()));
    rmSync(this.pidFile, { force: true });
  }

  member(name: string): StackMember {
    const m = this.members.get(name);
    if (!m) throw new Error(`no process named "${name}"; known: ${[...this.members.keys()].join(', ')}`);
    return m;
  }

  /** `start <name>`: the stack never restarts anything by itself, so failures stay visible. */
  async start(name: string): Promise<void> {
    const m = this.member(name);
    if (m.process.state === 'running' || m.process.state === 'frozen') throw new Error(`${name} is already running`);
    await m.start();
    this.savePids();
  }

  async status(): Promise<Array<Record<'name' | 'pid' | 'address' | 'state' | 'health', string>>> {
    return (await this.statusRecords()).map(({ name, pid, address, state, health }) => ({
      name,
      pid: String(pid ?? '-'),
      address,
      state,
      health,
    }));
  }

  /** `status --json`: one record per process, for scripts and tests instead of parsing the table. */
  async statusRecords(): Promise<MemberStatus[]> {
    // The gateway first: it is the address a user talks to.
    const members = [...this.members.values()].sort(
      (a, b) => Number(b.kind === 'gateway') - Number(a.kind === 'gateway'),
    );
    return Promise.all(
      members.map(async (m) => {
        const [health, role] = await Promise.all([m.health(), m.role?.() ?? null]);
        return {
          name: m.name,
          pid: m.process.pid ?? null,
          address: m.address,
          kind: m.kind,
          role,
          state: describeState(m),
          health,
        };
      }),
    );
  }

  /** The simple topology's PostgreSQL cluster; promote/add-replica drills (replication-drills.ts) act on it. */
  get postgres(): PostgresCluster {
    if (this.options.topology === 'ha')
      throw new Error('Patroni fails over by itself here: use `switchover [member]` or `failover <member>`');
    if (!this.cluster) throw new Error('the stack is not up');
    return this.cluster;
  }

  /** The HA topology's Patroni cluster; switchover and failover act on it. */
  get ha(): PatroniCluster {
    if (this.options.topology !== 'ha') throw new Error('this stack runs the simple topology (--simple): no Patroni');
    if (!this.patroni) throw new Error('the stack is not up');
    return this.patroni;
  }

  add(member: StackMember): void {
    this.members.set(member.name, member);
    member.process.onExit((code, signal) => {
      this.savePids();
      // A worker the autoscaler drains exits on purpose; any other exit is news (the runner logs it).
      if (!this.draining.has(member)) this.onExit?.(member, code, signal);
    });
    this.savePids();
  }

  /** Where API instances re-read the node list (DB_NODES_FILE), so a replica added while they run is used. */
  get nodesFile(): string {
    return join(this.options.root, 'db-nodes.json');
  }

  /** Every PostgreSQL node, named like its process: each is a candidate for either role. */
  private databaseNodes(): Array<{ name: string; url: string }> {
    if (this.patroni) return this.patroni.nodes.map((n) => ({ name: n.name, url: n.url() }));
    return this.postgres.nodes.map((n) => ({ name: n.name, url: n.url() }));
  }

  writeNodesFile(): void {
    const nodes = this.databaseNodes();
    // Write-then-rename: a reader never sees half a file.
    writeFileSync(`${this.nodesFile}.tmp`, JSON.stringify({ nodes }, null, 2));
    renameSync(`${this.nodesFile}.tmp`, this.nodesFile);
  }

  private apiMember(index: number): StackMember {
    const name = `api-${index}`;
    const port = this.options.apiPort + index - 1;
    const proc = nodeProgram({
      name,
      script: 'main.js',
      env: this.apiEnv(name, port),
      logFile: join(this.logDir, `${name}.log`),
    });
    return httpMember('api', proc, port, { servedBy: name });
  }

  /** Where the gateway's admin token is written (mode 0600), for `curl -H "authorization: Bearer $(cat ...)"`. */
  get gatewayAdminTokenFile(): string {
    return join(this.options.root, 'gateway-admin-token');
  }

  private gatewayMember(apis: readonly StackMember[]): StackMember {
    const token = this.gatewayToken;
    writeFileSync(this.gatewayAdminTokenFile, `${token}\n`, { mode: 0o600 });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: process.env.NODE_ENV ?? 'development',
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: String(this.options.gatewayPort),
      UPSTREAMS: apis.map((a) => a.address).join(','),
      // Workers are no upstreams; the architecture page (/_gateway/) reads their health and metrics here.
      GATEWAY_OBSERVE_WORKERS: [...this.members.values()]
        .filter((m) => m.kind === 'worker')
        .map((m) => m.address)
        .join(','),
      GATEWAY_ADMIN_TOKEN: token,
      GATEWAY_PURGE_TOKEN: this.purgeToken,
    };
    const proc = nodeProgram({
      name: 'gateway',
      script: 'gateway/main.js',
      env,
      logFile: join(this.logDir, 'gateway.log'),
    });
    return httpMember('gateway', proc, this.options.gatewayPort, {
      healthPaths: ['/_gateway/health'],
      livePath: '/_gateway/health',
    });
  }

  private workerMember(index: number): StackMember {
    const name = `worker-${index}`;
    const port = this.options.workerPort + index - 1;
    const env = { ...this.sharedEnv(), HOST: '127.0.0.1', WORKER_HTTP_PORT: String(port), INSTANCE_ID: name };
    const proc = nodeProgram({ name, script: 'worker.js', env, logFile: join(this.logDir, `${name}.log`) });
    // SIGKILL only past WORKER_DRAIN_TIMEOUT_MS + SHUTDOWN_TIMEOUT_MS (20 s + 30 s): a drain is never cut short.
    return httpMember('worker', proc, port, { stopTimeoutMs: 55_000, servedBy: name });
  }

  /** What every program of the stack gets: the same config variables a real deployment sets. */
  sharedEnv(): NodeJS.ProcessEnv {
    // Named like the processes, so X-Db-Node and the db_* metrics say primary, replica-1 (or pg-1, pg-2, ...).
    const db = this.patroni
      ? {
          DB_NODES: this.databaseNodes()
            .map((n) => `${n.name}=${n.url}`)
            .join(','),
        }
      : {
          DB_PRIMARY: this.cluster!.primary.url(),
          DB_REPLICAS: this.cluster!.replicas.map((r) => `${r.name}=${r.url()}`).join(','),
        };
    return {
      ...process.env,
      NODE_ENV: process.env.NODE_ENV ?? 'development',
      ...db,
      DB_NODES_FILE: this.nodesFile,
      ...this.redisEnv(),
      // Every client of the lab is 127.0.0.1, one IP to the limiter: its general per-IP limit (600/min) would
      // throttle the whole lab as one user. The credential limits stay as in production.
      RATE_LIMIT_MAX: process.env.RATE_LIMIT_MAX ?? '12000',
      SESSION_SECRET: this.sessionSecret,
      ADMIN_TOKEN: this.adminToken,
      // A write purges the pages it changed from the gateway's edge cache (src/infra/cache/edge-purger.ts).
      EDGE_PURGE_URLS: `http://127.0.0.1:${this.options.gatewayPort}`,
      EDGE_PURGE_TOKEN: this.purgeToken,
    };
  }

  /** Every Redis client finds the master through the Sentinels (HA), or connects to the one Redis (simple). */
  private redisEnv(): NodeJS.ProcessEnv {
    if (!this.sentinel) return { REDIS_URL: `redis://127.0.0.1:${this.options.redisPort}` };
    const sentinels = this.sentinel.sentinelAddresses().map(({ host, port }) => `${host}:${port}`);
    return { REDIS_SENTINELS: sentinels.join(','), REDIS_MASTER_NAME };
  }

  private apiEnv(instanceId: string, port: number): NodeJS.ProcessEnv {
    return { ...this.sharedEnv(), HOST: '127.0.0.1', PORT: String(port), INSTANCE_ID: instanceId };
  }

  private allPorts(): number[] {
    const { apis, apiPort, replicas, pgPort, redisPort, gatewayPort, workers, workerPort } = this.options;
    return [
      gatewayPort,
      pgPort,
      ...Array.from({ length: replicas }, (_, i) => pgPort + 1 + i),
      redisPort,
      ...Array.from({ length: apis }, (_, i) => apiPort + i),
      ...Array.from({ length: this.options.autoscale?.bounds.max ?? workers }, (_, i) => workerPort + i),
    ];
  }

  private get pidFile(): string {
    return join(this.options.root, 'pids.json');
  }

  /** Remembered so a later run can clean up after a runner that was killed with SIGKILL. */
  private savePids(): void {
    const pids = Object.fromEntries(
      [...this.members.values()].flatMap((m) => (m.process.pid ? [[m.name, m.process.pid]] : [])),
    );
    writeFileSync(this.pidFile, JSON.stringify(pids, null, 2));
  }
}

function describeState(m: StackMember): string {
  const exit = m.process.exitStatus;
  if (m.process.state === 'exited' && exit) return `exited (${exit.signal ?? `code ${exit.code}`})`;
  return m.process.state;
}

/** Ends process groups a previous, killed runner left behind, and only those: each pid must still run our binaries. */
function killLeftovers(root: string, log: (line: string) => void): void {
  const pidFile = join(root, 'pids.json');
  if (!existsSync(pidFile)) return;
  const pids = JSON.parse(readFileSync(pidFile, 'utf8')) as Record<string, number>;
  for (const [name, pid] of Object.entries(pids)) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!/postgres|redis-server|redis-sentinel|patroni|etcd|dist\//.test(cmdline)) continue;
    log(`stopping ${name} (pid ${pid}) left over from an earlier run`);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(pidFile, { force: true });
}

async function assertPortsFree(ports: number[]): Promise<void> {
  const busy: number[] = [];
  await Promise.all(
    ports.map((p) =>
      waitForPort(p, 0).then(
        () => busy.push(p),
        () => undefined,
      ),
    ),
  );
  if (busy.length) {
    throw new Error(
      `port(s) ${busy.sort().join(', ')} already in use. Is another stack running (npm run stack -- status)? ` +
        'Pick other ports with --pg-port, --redis-port, --api-port.',
    );
  }
}
