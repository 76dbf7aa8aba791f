import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PostgresNode } from './postgres-node';
import { postgresServiceUser } from './service-user';

export interface PostgresClusterOptions {
  /** Base directory: data under pg/<name>, logs under logs/<name>.log. */
  readonly dir: string;
  readonly primaryPort: number;
  readonly replicaPorts: readonly number[];
  readonly database?: string;
  readonly fast?: boolean;
  /** synchronous_standby_names = 'ANY 1 (...)': a commit returns only once a replica has it. */
  readonly synchronous?: boolean;
}

export interface PostgresCluster {
  readonly nodes: PostgresNode[];
  /** The node that was created as primary (after a promotion drill, ask the nodes who is primary now). */
  readonly primary: PostgresNode;
  readonly replicas: PostgresNode[];
  addReplica(port: number, name?: string): Promise<PostgresNode>;
  stop(): Promise<void>;
}

/** initdb a primary, create the app database, then pg_basebackup and start each streaming replica. */
export async function startPostgresCluster(options: PostgresClusterOptions): Promise<PostgresCluster> {
  const { dir, primaryPort, replicaPorts, database = 'app', fast = false, synchronous = false } = options;
  const user = postgresServiceUser();
  mkdirSync(join(dir, 'pg'), { recursive: true });
  // The service user must be able to reach its data directory through the parents we created.
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'pg'), 0o755);

  const names = ['primary', ...replicaPorts.map((_, i) => `replica-${i + 1}`)];
  // Every node carries the setting, so whichever replica is promoted keeps requiring one standby ack.
  const settings: Record<string, string> = synchronous
    ? { synchronous_standby_names: `'ANY 1 (${names.map((n) => n.replace(/-/g, '_')).join(', ')})'` }
    : {};
  const nodeOptions = (name: string, port: number, withSettings = settings) => ({
    name,
    port,
    dataDir: join(dir, 'pg', name),
    logFile: join(dir, 'logs', `${name}.log`),
    user,
    fast,
    settings: withSettings,
  });

  // The primary waits for its standbys only once they exist: before that, every commit (CREATE DATABASE) would hang.
  const primary = await PostgresNode.initPrimary(nodeOptions('primary', primaryPort, {}));
  await primary.start();
  await primary.query(`CREATE DATABASE ${database}`, [], { database: 'postgres' });

  const replicas: PostgresNode[] = [];
  const cluster: PostgresCluster = {
    nodes: [primary],
    primary,
    replicas,
    async addReplica(port, name = `replica-${replicas.length + 1}`) {
      const source = (await currentPrimary(cluster.nodes)) ?? primary;
      const replica = await PostgresNode.cloneReplica(source, nodeOptions(name, port));
      await replica.start();
      replicas.push(replica);
      cluster.nodes.push(replica);
      return replica;
    },
    async stop() {
      await Promise.all(cluster.nodes.map((n) => n.stop()));
    },
  };
  await Promise.all(replicaPorts.map((port, i) => cluster.addReplica(port, `replica-${i + 1}`)));
  if (synchronous) await primary.applySettings(settings);
  // Promise.all may finish them out of order; keep replica-1, replica-2, ... in order.
  replicas.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  cluster.nodes.sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name));
  return cluster;
}

/**
 * The running node that is not in recovery; if an old primary came back next to a promoted one, the one on
 * the highest timeline (the same rule the API's topology monitor applies).
 */
export async function currentPrimary(nodes: readonly PostgresNode[]): Promise<PostgresNode | undefined> {
  let best: { node: PostgresNode; timeline: number } | undefined;
  for (const node of nodes) {
    if (node.process.state !== 'running') continue;
    if (
      !(await node.isInRecovery().then(
        (r) => !r,
        () => false,
      ))
    )
      continue;
    const timeline = (await node.timeline().catch(() => null)) ?? 0;
    if (!best || timeline > best.timeline) best = { node, timeline };
  }
  return best?.node;
}
