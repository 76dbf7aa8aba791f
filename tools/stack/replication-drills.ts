import type { LocalStack } from './local-stack';
import { currentPrimary } from './postgres-cluster';
import type { PostgresNode } from './postgres-node';
import { freePort, sleep, waitForPort } from './ports';
import { postgresMember } from './stack-member';

/**
 * `promote <replica>`: what an operator (or Patroni) does after the primary died. Promotes the replica, points
 * every other running replica at it, and reports. The API instances find the new primary by themselves.
 */
export async function promoteReplica(stack: LocalStack, name: string): Promise<string> {
  const nodes = stack.postgres.nodes;
  const node = nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no PostgreSQL node named "${name}"; known: ${nodes.map((n) => n.name).join(', ')}`);
  if (node.process.state !== 'running')
    throw new Error(`${name} is ${node.process.state}; start it (or thaw it) first`);
  if (!(await node.isInRecovery())) throw new Error(`${name} is not a replica: it is a primary already`);
  await refuseToLoseWrites(node, nodes);
  await node.promote();
  const lines = [`${name} promoted: primary on timeline ${await node.timeline()}`];
  const others = nodes.filter((n) => n !== node);
  let following = 0;
  for (const other of others) {
    const line = await repoint(other, node);
    if (line.includes('now follows')) following++;
    lines.push(line);
  }
  if (stack.options.synchronous && following === 0) {
    lines.push(
      `warning: synchronous replication and no standby follows ${name}: its commits wait until one does (add-replica)`,
    );
  }
  return lines.join('\n');
}

/**
 * With `ANY 1` synchronous replication an acknowledged commit is on at least one standby, not on every one:
 * promoting a replica that received less WAL than another loses it. So, while no primary runs, refuse unless
 * the chosen replica is the most advanced (Patroni applies the same rule).
 */
async function refuseToLoseWrites(node: PostgresNode, nodes: readonly PostgresNode[]): Promise<void> {
  if (await currentPrimary(nodes)) return;
  const received = async (n: PostgresNode) =>
    (
      await n.query<{ lsn: string | null }>('SELECT pg_last_wal_receive_lsn()::text AS lsn', [], {
        database: 'postgres',
      })
    )[0]?.lsn ?? '0/0';
  const mine = lsnValue(await received(node));
  for (const other of nodes) {
    if (other === node || other.process.state !== 'running' || !(await other.isInRecovery().catch(() => false)))
      continue;
    const theirs = await received(other);
    if (lsnValue(theirs) > mine) {
      throw new Error(
        `${other.name} received more WAL (${theirs}) than ${node.name}: promoting ${node.name} would lose the writes only ${other.name} has. Promote ${other.name}.`,
      );
    }
  }
}

function lsnValue(text: string): bigint {
  const [hi, lo] = text.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

async function repoint(replica: PostgresNode, primary: PostgresNode): Promise<string> {
  if (replica.process.state !== 'running') {
    return `${replica.name} is down: started again it still follows (or is) the old primary, which API instances fence by its lower timeline; re-clone it`;
  }
  if (!(await replica.isInRecovery().catch(() => false))) {
    const timeline = await replica.timeline().catch(() => null);
    return `${replica.name} still runs as a primary on timeline ${timeline}: API instances fence it (lower timeline) and never write to it; stop it`;
  }
  await replica.follow(primary);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ((await replica.upstreamPort().catch(() => null)) === primary.port)
      return `${replica.name} now follows ${primary.name} (streaming)`;
    await sleep(200);
  }
  return `${replica.name} was pointed at ${primary.name} but is not streaming after 10 s (see its log: a replica that replayed past the promotion point needs pg_rewind or a fresh clone)`;
}

/** `add-replica`: pg_basebackup a new replica from the current primary; running API instances read it from the node list file. */
export async function addReplica(stack: LocalStack): Promise<string> {
  const cluster = stack.postgres;
  const source = await currentPrimary(cluster.nodes);
  if (!source) throw new Error('no running primary to clone a replica from');
  const taken = cluster.nodes.map((n) => Number(/^replica-(\d+)$/.exec(n.name)?.[1] ?? 0));
  const name = `replica-${Math.max(0, ...taken) + 1}`;
  const replica = await cluster.addReplica(await nextPort(Math.max(...cluster.nodes.map((n) => n.port)) + 1), name);
  stack.add(postgresMember(replica));
  stack.writeNodesFile();
  const sync = stack.options.synchronous
    ? ' It is not a synchronous standby candidate (synchronous_standby_names lists the original nodes).'
    : '';
  return `${name} cloned from ${source.name}, streaming on 127.0.0.1:${replica.port}; API instances pick it up from ${stack.nodesFile} within a monitor interval.${sync}`;
}

/** The port after the cluster's last one when free (tidy addresses), any free port otherwise. */
async function nextPort(preferred: number): Promise<number> {
  const busy = await waitForPort(preferred, 0).then(
    () => true,
    () => false,
  );
  return busy || preferred > 65535 ? freePort() : preferred;
}
