import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess } from './managed-process';
import { freePort } from './ports';

export const ETCD_INSTALL_HINT =
  'etcd was not found. Install it, then run again:\n' +
  '  Debian/Ubuntu:  sudo apt-get install -y etcd-server   (or tools/setup/system-packages.sh)\n' +
  '  macOS:          brew install etcd\n' +
  'Or set ETCD=/path/to/etcd.';

export interface EtcdClusterOptions {
  /** Base directory: data under etcd/<name>, logs under logs/<name>.log. */
  readonly dir: string;
  /** Members: 3 survive the loss of one; 1 is enough when the drill is not about etcd. */
  readonly size?: number;
}

/** One etcd member on 127.0.0.1, run as a ManagedProcess named etcd-1, etcd-2, ... */
export class EtcdMember {
  readonly process: ManagedProcess;

  constructor(
    readonly name: string,
    readonly clientPort: number,
    readonly peerPort: number,
    args: readonly string[],
    logFile: string,
  ) {
    this.process = new ManagedProcess({ name, command: findEtcd(), args, logFile });
  }

  /** host:port, the form Patroni's `etcd3: hosts:` takes. */
  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  get clientUrl(): string {
    return `http://${this.endpoint}`;
  }

  async start(timeoutMs = 30_000): Promise<void> {
    this.process.start();
    await this.waitHealthy(timeoutMs);
  }

  stop(): Promise<void> {
    return this.process.stop('SIGTERM', 10_000);
  }

  /** True once this member answers and the cluster has a raft leader (etcd's own /health rule). */
  async healthy(timeoutMs = 1000): Promise<boolean> {
    try {
      const res = await fetch(`${this.clientUrl}/health`, { signal: AbortSignal.timeout(timeoutMs) });
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    } catch {
      return false;
    }
  }

  async waitHealthy(timeoutMs: number): Promise<void> {
    await this.process.waitUntil(() => this.healthy(), { timeoutMs, intervalMs: 100, notReady: 'not healthy' });
  }
}

export class EtcdCluster {
  constructor(readonly members: readonly EtcdMember[]) {}

  /** Every client endpoint as host:port, for Patroni's `etcd3: hosts:`. */
  get endpoints(): string[] {
    return this.members.map((m) => m.endpoint);
  }

  member(name: string): EtcdMember {
    const found = this.members.find((m) => m.name === name);
    if (!found) throw new Error(`no etcd member named "${name}"`);
    return found;
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
  }
}

/** Starts every member at once (a new raft cluster needs a quorum to elect its first leader) and waits until healthy. */
export async function startEtcdCluster({ dir, size = 3 }: EtcdClusterOptions): Promise<EtcdCluster> {
  const names = Array.from({ length: size }, (_, i) => `etcd-${i + 1}`);
  const ports = await Promise.all(names.map(async () => ({ client: await freePort(), peer: await freePort() })));
  const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[i]!.peer}`).join(',');
  // A token of our own: members of another run that happen to reach these ports cannot join this cluster.
  const token = `z2m-${randomBytes(6).toString('hex')}`;
  const members = names.map((name, i) => {
    const { client, peer } = ports[i]!;
    const dataDir = join(dir, 'etcd', name);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const args = [
      `--name=${name}`,
      `--data-dir=${dataDir}`,
      `--listen-client-urls=http://127.0.0.1:${client}`,
      `--advertise-client-urls=http://127.0.0.1:${client}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=${initialCluster}`,
      // Ignored once the data dir holds a member: a restarted member rejoins the same cluster.
      '--initial-cluster-state=new',
      `--initial-cluster-token=${token}`,
      '--logger=zap',
    ];
    return new EtcdMember(name, client, peer, args, join(dir, 'logs', `${name}.log`));
  });
  const cluster = new EtcdCluster(members);
  try {
    await Promise.all(members.map((m) => m.start()));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

let cachedEtcd: string | undefined;

export function findEtcd(): string {
  if (cachedEtcd) return cachedEtcd;
  for (const candidate of [process.env.ETCD, 'etcd'].filter((c): c is string => !!c)) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      cachedEtcd = candidate;
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error(ETCD_INSTALL_HINT);
}
