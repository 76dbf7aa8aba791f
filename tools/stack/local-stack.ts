import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeProgram, runMigrations } from './node-programs';
import { startPostgresCluster, type PostgresCluster } from './postgres-cluster';
import { waitForPort } from './ports';
import { RedisNode } from './redis-node';
import { httpMember, postgresMember, redisMember, type StackMember } from './stack-member';

export interface StackOptions {
  /** Where data, logs and the control socket live (.stack/). */
  readonly root: string;
  readonly apis: number;
  readonly apiPort: number;
  /** The gateway, the stack's one public entry, in front of every API instance. */
  readonly gatewayPort: number;
  /** Queue workers (node dist/worker.js); each serves health and metrics on workerPort + i. */
  readonly workers: number;
  readonly workerPort: number;
  readonly replicas: number;
  readonly pgPort: number;
  readonly redisPort: number;
  readonly synchronous: boolean;
}

/** The whole local architecture as named processes: what `npm run stack` runs in the foreground. */
export class LocalStack {
  readonly members = new Map<string, StackMember>();
  private cluster?: PostgresCluster;
  private readonly sessionSecret = randomBytes(32).toString('base64url');
  /** Per run, like the session secret; printed by the runner for the queue dashboard. */
  readonly adminToken = randomBytes(32).toString('base64url');

  constructor(readonly options: StackOptions) {}

  get logDir(): string {
    return join(this.options.root, 'logs');
  }

  async up(log: (line: string) => void): Promise<void> {
    const { root, replicas, pgPort, redisPort, synchronous } = this.options;
    killLeftovers(root, log);
    await assertPortsFree(this.allPorts());
    // Each run starts from a clean slate; the stack is a lab, not a place to keep data.
    for (const sub of ['pg', 'redis', 'logs']) rmSync(join(root, sub), { recursive: true, force: true });
    mkdirSync(this.logDir, { recursive: true });

    log(`starting PostgreSQL primary + ${replicas} streaming replica(s)${synchronous ? ' (synchronous)' : ''} and Redis...`);
    const redis = new RedisNode({ port: redisPort, dataDir: join(root, 'redis'), logFile: join(this.logDir, 'redis.log') });
    const replicaPorts = Array.from({ length: replicas }, (_, i) => pgPort + 1 + i);
    const [cluster] = await Promise.all([
      startPostgresCluster({ dir: root, primaryPort: pgPort, replicaPorts, synchronous }),
      redis.start(),
    ]);
    this.cluster = cluster;
    for (const node of cluster.nodes) this.add(postgresMember(node));
    this.add(redisMember(redis));
    this.savePids();
    this.writeNodesFile();

    log('running migrations...');
    await runMigrations(this.sharedEnv());

    log(`starting ${this.options.apis} API instance(s)...`);
    const apis = Array.from({ length: this.options.apis }, (_, i) => this.apiMember(i + 1));
    for (const api of apis) this.add(api);
    await Promise.all(apis.map((api) => api.start()));
    this.savePids();

    if (this.options.workers > 0) {
      log(`starting ${this.options.workers} queue worker(s)...`);
      const workers = Array.from({ length: this.options.workers }, (_, i) => this.workerMember(i + 1));
      for (const worker of workers) this.add(worker);
      await Promise.all(workers.map((worker) => worker.start()));
      this.savePids();
    }

    log('starting the gateway in front of them...');
    const gateway = this.gatewayMember(apis);
    this.add(gateway);
    await gateway.start();
    this.savePids();
  }

  /** Stops APIs first (they drain), then Redis, then replicas, then the primary. */
  async down(): Promise<void> {
    const byKind = (kinds: string[]) => [...this.members.values()].filter((m) => kinds.includes(m.kind));
    await Promise.all(byKind(['gateway']).map((m) => m.stop()));
    await Promise.all(byKind(['api', 'worker']).map((m) => m.stop()));
    await Promise.all(byKind(['redis']).map((m) => m.stop()));
    const pg = byKind(['postgres']);
    await Promise.all(pg.filter((m) => m.name !== 'primary').map((m) => m.stop()));
    await Promise.all(pg.filter((m) => m.name === 'primary').map((m) => m.stop()));
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
    // The gateway first: it is the address a user talks to.
    const members = [...this.members.values()].sort((a, b) => Number(b.kind === 'gateway') - Number(a.kind === 'gateway'));
    return Promise.all(
      members.map(async (m) => ({
        name: m.name,
        pid: String(m.process.pid ?? '-'),
        address: m.address,
        state: describeState(m),
        health: await m.health(),
      })),
    );
  }

  /** The PostgreSQL cluster; promote/add-replica drills (replication-drills.ts) act on it. */
  get postgres(): PostgresCluster {
    if (!this.cluster) throw new Error('the stack is not up');
    return this.cluster;
  }

  add(member: StackMember): void {
    this.members.set(member.name, member);
    member.process.onExit(() => this.savePids());
    this.savePids();
  }

  /** Where API instances re-read the node list (DB_NODES_FILE), so a replica added while they run is used. */
  get nodesFile(): string {
    return join(this.options.root, 'db-nodes.json');
  }

  writeNodesFile(): void {
    const nodes = this.postgres.nodes.map((n) => ({ name: n.name, url: n.url() }));
    // Write-then-rename: a reader never sees half a file.
    writeFileSync(`${this.nodesFile}.tmp`, JSON.stringify({ nodes }, null, 2));
    renameSync(`${this.nodesFile}.tmp`, this.nodesFile);
  }

  private apiMember(index: number): StackMember {
    const name = `api-${index}`;
    const port = this.options.apiPort + index - 1;
    const proc = nodeProgram({ name, script: 'main.js', env: this.apiEnv(name, port), logFile: join(this.logDir, `${name}.log`) });
    return httpMember('api', proc, port);
  }

  /** Where the gateway's admin token is written (mode 0600), for `curl -H "authorization: Bearer $(cat ...)"`. */
  get gatewayAdminTokenFile(): string {
    return join(this.options.root, 'gateway-admin-token');
  }

  private gatewayMember(apis: readonly StackMember[]): StackMember {
    const token = randomBytes(24).toString('base64url');
    writeFileSync(this.gatewayAdminTokenFile, `${token}\n`, { mode: 0o600 });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: process.env.NODE_ENV ?? 'development',
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: String(this.options.gatewayPort),
      UPSTREAMS: apis.map((a) => a.address).join(','),
      // Workers are no upstreams; the architecture page (/_gateway/) reads their health and metrics here.
      GATEWAY_OBSERVE_WORKERS: [...this.members.values()].filter((m) => m.kind === 'worker').map((m) => m.address).join(','),
      GATEWAY_ADMIN_TOKEN: token,
    };
    const proc = nodeProgram({ name: 'gateway', script: 'gateway/main.js', env, logFile: join(this.logDir, 'gateway.log') });
    return httpMember('gateway', proc, this.options.gatewayPort, ['/_gateway/health'], '/_gateway/health');
  }

  private workerMember(index: number): StackMember {
    const name = `worker-${index}`;
    const port = this.options.workerPort + index - 1;
    const env = { ...this.sharedEnv(), HOST: '127.0.0.1', WORKER_HTTP_PORT: String(port), INSTANCE_ID: name };
    const proc = nodeProgram({ name, script: 'worker.js', env, logFile: join(this.logDir, `${name}.log`) });
    return httpMember('worker', proc, port);
  }

  /** What every program of the stack gets: the same config variables a real deployment sets. */
  sharedEnv(): NodeJS.ProcessEnv {
    const cluster = this.cluster!;
    return {
      ...process.env,
      NODE_ENV: process.env.NODE_ENV ?? 'development',
      // Named like the processes, so X-Db-Node and the db_* metrics say primary, replica-1, ...
      DB_PRIMARY: cluster.primary.url(),
      DB_REPLICAS: cluster.replicas.map((r) => `${r.name}=${r.url()}`).join(','),
      DB_NODES_FILE: this.nodesFile,
      REDIS_URL: `redis://127.0.0.1:${this.options.redisPort}`,
      SESSION_SECRET: this.sessionSecret,
      ADMIN_TOKEN: this.adminToken,
    };
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
      ...Array.from({ length: workers }, (_, i) => workerPort + i),
    ];
  }

  private get pidFile(): string {
    return join(this.options.root, 'pids.json');
  }

  /** Remembered so a later run can clean up after a runner that was killed with SIGKILL. */
  private savePids(): void {
    const pids = Object.fromEntries([...this.members.values()].flatMap((m) => (m.process.pid ? [[m.name, m.process.pid]] : [])));
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
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!/postgres|redis-server|dist\//.test(cmdline)) continue;
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
  await Promise.all(ports.map((p) => waitForPort(p, 0).then(() => busy.push(p), () => undefined)));
  if (busy.length) {
    throw new Error(
      `port(s) ${busy.sort().join(', ')} already in use. Is another stack running (npm run stack -- status)? ` +
        'Pick other ports with --pg-port, --redis-port, --api-port.',
    );
  }
}
