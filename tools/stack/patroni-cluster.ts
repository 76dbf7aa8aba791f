import { chmodSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EtcdCluster, startEtcdCluster } from './etcd-cluster';
import { findPatroniLib, patroniConfig } from './patroni-config';
import { PatroniMember } from './patroni-member';
import { findPgBinDir } from './pg-binaries';
import { freePort, sleep } from './ports';
import { chownTree, postgresServiceUser } from './service-user';

export interface PatroniClusterOptions {
  /** Base directory: etcd under etcd/, members under patroni/<name>, logs under logs/<name>.log. */
  readonly dir: string;
  /** Patroni members pg-1 ... pg-N (default 3). */
  readonly size?: number;
  /** etcd members when no `etcd` is given (default 3). */
  readonly etcdSize?: number;
  /** An etcd cluster to use instead of starting one; it is then not stopped with this cluster. */
  readonly etcd?: EtcdCluster;
  /** The application database created on the first leader (default app). */
  readonly database?: string;
  /** Patroni's synchronous_mode (default on): no acknowledged write is lost on failover. */
  readonly synchronous?: boolean;
  /** Patroni's cluster name, the etcd key prefix /service/<scope> (default z2m). */
  readonly scope?: string;
  /** Progress lines (etcd up, leader elected, replicas streaming), so start-up time can be read phase by phase. */
  readonly log?: (line: string) => void;
  /**
   * Return once the leader serves the database, leaving the replicas to finish cloning: the caller overlaps its
   * own start-up with them and then awaits `waitForReplication()`. Default: return with every replica streaming.
   */
  readonly returnAtLeader?: boolean;
  /** PostgreSQL ports of pg-1, pg-2, ... (the stack's fixed addresses); free ports when absent. */
  readonly pgPorts?: readonly number[];
}

/** One member as the DCS sees it (GET /cluster). */
export interface MemberView {
  readonly name: string;
  /** leader, sync_standby, replica, ... */
  readonly role: string;
  /** running for the leader; streaming, running, starting, stopped, ... for the others. */
  readonly state: string;
  readonly timeline?: number;
  /** Bytes behind the leader, or 'unknown'; absent for the leader. */
  readonly lag?: number | 'unknown';
}

/** A REST call Patroni answered with an error status (412: not possible now, 503: failed or unknown). */
export class PatroniRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const REST_TIMEOUT_MS = 1000;

export class PatroniCluster {
  constructor(
    readonly etcd: EtcdCluster,
    readonly nodes: readonly PatroniMember[],
    readonly database: string,
    private readonly ownsEtcd: boolean,
    private readonly synchronous = true,
  ) {}

  /** Until every replica streams from the leader, and (synchronous_mode) Patroni has named a synchronous standby. */
  async waitForReplication(log: (line: string) => void = () => undefined): Promise<void> {
    const leader = await this.waitForLeader(60_000);
    const replicas = this.nodes.filter((m) => m !== leader);
    await Promise.all(replicas.map((m) => this.waitForStreaming(m, 60_000)));
    log(`Patroni: ${replicas.map((m) => m.name).join(', ')} streaming`);
    if (this.synchronous && replicas.length > 0)
      log(`Patroni: ${(await this.waitForSyncStandby(30_000)).name} is the synchronous standby`);
  }

  member(name: string): PatroniMember {
    const found = this.nodes.find((m) => m.name === name);
    if (!found) throw new Error(`no Patroni member named "${name}"`);
    return found;
  }

  /** Every member's role, state, timeline and lag, from the first member whose REST API answers. */
  async members(): Promise<MemberView[]> {
    for (const node of this.nodes) {
      // A frozen member's socket accepts and never answers; skip it rather than wait out the timeout.
      if (node.process.state !== 'running') continue;
      try {
        const res = await fetch(`${node.restUrl}/cluster`, { signal: AbortSignal.timeout(REST_TIMEOUT_MS) });
        if (res.ok) return ((await res.json()) as { members: MemberView[] }).members;
      } catch {
        // next member
      }
    }
    return [];
  }

  /** The member holding the leader key, if any. */
  async leader(): Promise<PatroniMember | undefined> {
    const view = (await this.members()).find((m) => m.role === 'leader');
    return view && this.member(view.name);
  }

  /** Waits for a leader (other than `except`) whose PostgreSQL accepts writes. */
  async waitForLeader(timeoutMs = 30_000, { except }: { except?: string } = {}): Promise<PatroniMember> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const leader = await this.leader();
      if (leader && leader.name !== except && (await leader.isInRecovery().catch(() => true)) === false) return leader;
      if (Date.now() > deadline)
        throw new Error(
          `no leader${except ? ` other than ${except}` : ''} within ${timeoutMs} ms: ${await this.describe()}`,
        );
      await sleep(100);
    }
  }

  /** Waits until `member` streams from the leader, on the leader's timeline. */
  async waitForStreaming(member: PatroniMember | string, timeoutMs = 30_000): Promise<void> {
    const name = typeof member === 'string' ? member : member.name;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const views = await this.members();
      const leader = views.find((m) => m.role === 'leader');
      const view = views.find((m) => m.name === name);
      if (
        leader &&
        view &&
        view.name !== leader.name &&
        view.state === 'streaming' &&
        view.timeline === leader.timeline
      )
        return;
      if (Date.now() > deadline)
        throw new Error(`${name} not streaming within ${timeoutMs} ms: ${await this.describe()}`);
      await sleep(200);
    }
  }

  /** Waits until the leader has a synchronous standby: until then, synchronous_mode commits without waiting for one. */
  async waitForSyncStandby(timeoutMs = 30_000): Promise<PatroniMember> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const sync = (await this.members()).find((m) => m.role === 'sync_standby' && m.state === 'streaming');
      if (sync) return this.member(sync.name);
      if (Date.now() > deadline)
        throw new Error(`no synchronous standby within ${timeoutMs} ms: ${await this.describe()}`);
      await sleep(200);
    }
  }

  /** Planned handover (POST /switchover on the leader); Patroni picks the candidate when none is named. */
  async switchover(candidate?: string): Promise<PatroniMember> {
    const leader = await this.leader();
    if (!leader) throw new Error(`switchover: no leader: ${await this.describe()}`);
    await this.post(leader, '/switchover', { leader: leader.name, ...(candidate ? { candidate } : {}) });
    return this.waitForLeader(30_000, { except: leader.name });
  }

  /** Promotes `candidate` (POST /failover), also when there is no healthy leader. */
  async failover(candidate: string): Promise<PatroniMember> {
    const via = this.nodes.find((m) => m.name === candidate && m.process.state === 'running');
    const target = via ?? this.nodes.find((m) => m.process.state === 'running');
    if (!target) throw new Error('failover: no running member to ask');
    await this.post(target, '/failover', { candidate });
    const leader = await this.waitForLeader(30_000);
    if (leader.name !== candidate) throw new Error(`failover: ${leader.name} leads instead of ${candidate}`);
    return leader;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((m) => m.stop()));
    if (this.ownsEtcd) await this.etcd.stop();
  }

  /** One line per member, for error messages. */
  async describe(): Promise<string> {
    const views = await this.members();
    if (!views.length) return 'no member answers';
    return views.map((m) => `${m.name} ${m.role} ${m.state} tl=${m.timeline ?? '?'} lag=${m.lag ?? '-'}`).join('; ');
  }

  private async post(member: PatroniMember, path: string, body: object): Promise<string> {
    // Patroni answers a switchover only once it is done (or has given up): allow it its own polling time.
    const res = await fetch(`${member.restUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    if (!res.ok) throw new PatroniRequestError(res.status, `${path} on ${member.name}: ${res.status} ${text}`);
    return text;
  }
}

/** etcd, then N Patroni members at once; waits for a leader, creates the app database, and waits for every replica. */
export async function startPatroniCluster(options: PatroniClusterOptions): Promise<PatroniCluster> {
  const { dir, size = 3, etcdSize = 3, database = 'app', synchronous = true, scope = 'z2m' } = options;
  const user = postgresServiceUser();
  mkdirSync(join(dir, 'patroni'), { recursive: true });
  // The service user must reach its member dir and the Patroni package through the parents we created.
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'patroni'), 0o755);
  // A copy the service user can read: the launcher's cache may sit under root's home.
  const pythonPath = join(dir, 'patroni', 'lib');
  cpSync(join(findPatroniLib(), 'patroni'), join(pythonPath, 'patroni'), { recursive: true });
  chownTree(pythonPath, user);

  const log = options.log ?? (() => undefined);
  const etcd = options.etcd ?? (await startEtcdCluster({ dir, size: etcdSize }));
  if (!options.etcd) log(`etcd x${etcdSize} up`);
  const binDir = findPgBinDir();
  const nodes = await Promise.all(
    Array.from({ length: size }, async (_, i) => {
      const name = `pg-${i + 1}`;
      const memberDir = join(dir, 'patroni', name);
      const [pgPort, restPort] = [options.pgPorts?.[i] ?? (await freePort()), await freePort()];
      mkdirSync(memberDir, { recursive: true, mode: 0o700 });
      const configFile = join(memberDir, 'patroni.yml');
      const dataDir = join(memberDir, 'data');
      const etcdHosts = etcd.endpoints;
      writeFileSync(
        configFile,
        patroniConfig({ scope, name, memberDir, dataDir, binDir, pgPort, restPort, etcdHosts, synchronous }),
      );
      chownTree(memberDir, user);
      const logFile = join(dir, 'logs', `${name}.log`);
      return new PatroniMember({ name, memberDir, configFile, pgPort, restPort, pythonPath, logFile, user });
    }),
  );
  const cluster = new PatroniCluster(etcd, nodes, database, !options.etcd, synchronous);
  try {
    await Promise.all(nodes.map((m) => m.start()));
    const leader = await cluster.waitForLeader(60_000);
    await leader.query(`CREATE DATABASE ${database}`, [], { database: 'postgres' });
    log(`Patroni: ${leader.name} leads; database ${database} created`);
    if (!options.returnAtLeader) await cluster.waitForReplication(log);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
