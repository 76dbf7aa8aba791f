import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inRecovery, type QueryOptions, queryOnce } from './pg-query';
import { ManagedProcess } from './managed-process';
import { PATRONI_PYTHON } from './patroni-config';
import { SUPERUSER } from './postgres-node';
import { sleep } from './ports';
import { commandName, isAlive, processTree, signalEach } from './process-tree';
import type { ServiceUser } from './service-user';

export interface PatroniMemberOptions {
  /** pg-1, pg-2, ...: the ManagedProcess name, Patroni's member name and the replicas' application_name. */
  readonly name: string;
  readonly memberDir: string;
  readonly configFile: string;
  readonly pgPort: number;
  readonly restPort: number;
  /** Directory holding the `patroni` Python package. */
  readonly pythonPath: string;
  readonly logFile: string;
  readonly user?: ServiceUser;
}

/** What GET /patroni says about this member. */
export interface PatroniStatus {
  readonly state: string;
  readonly role: string;
  readonly timeline?: number;
  readonly replication_state?: string;
}

const live = new Set<PatroniMember>();
// Patroni starts postgres in a session of its own whose parent exits at once, so no signal to Patroni's process
// tree reaches it: without this, a crashed runner would leave postmasters behind.
process.once('exit', () => {
  for (const member of live) member.killPostgresNow();
});

/**
 * One Patroni member: a ManagedProcess runs Patroni, and Patroni runs PostgreSQL. Freeze, thaw and kill act on
 * both trees, since the postmaster is not a descendant of Patroni.
 */
export class PatroniMember {
  readonly process: ManagedProcess;

  constructor(readonly options: PatroniMemberOptions) {
    this.process = new ManagedProcess({
      name: options.name,
      command: PATRONI_PYTHON,
      args: ['-m', 'patroni', options.configFile],
      cwd: options.memberDir,
      // HOME is where libpq looks for .pgpass and psql history: the member's own dir, not root's.
      env: { ...process.env, PYTHONPATH: options.pythonPath, HOME: options.memberDir },
      logFile: options.logFile,
      user: options.user,
    });
    this.process.onExit(() => {
      if (!this.postmasterPid()) live.delete(this);
    });
  }

  get name(): string {
    return this.options.name;
  }

  get port(): number {
    return this.options.pgPort;
  }

  get dataDir(): string {
    return join(this.options.memberDir, 'data');
  }

  get restUrl(): string {
    return `http://127.0.0.1:${this.options.restPort}`;
  }

  /** Same form as PostgresNode.url(): trust on loopback, no password. */
  url(database = 'app'): string {
    return `postgres://${SUPERUSER}@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts Patroni and waits until its REST API answers (PostgreSQL may still be starting or cloning). */
  async start(timeoutMs = 30_000): Promise<void> {
    live.add(this);
    this.process.start();
    await this.process.waitUntil(async () => (await this.status().catch(() => undefined)) !== undefined, {
      timeoutMs,
      intervalMs: 200,
      notReady: "(Patroni's REST API) silent",
    });
  }

  /** SIGTERM: Patroni shuts PostgreSQL down (handing the leader key over) and exits; a leftover postmaster is killed. */
  async stop(graceMs = 30_000): Promise<void> {
    await this.process.stop('SIGTERM', graceMs);
    await this.killPostgres();
    live.delete(this);
  }

  /** kill -9 of Patroni and PostgreSQL at once: the machine-died drill. */
  async kill(): Promise<void> {
    const postgres = this.postgresTree();
    const patroni = this.process.pid === undefined ? [] : processTree(this.process.pid);
    // Patroni first, in the same breath: it must not see its postmaster die and start it again.
    signalEach([...patroni, ...postgres], 'SIGKILL');
    await this.process.waitForExit();
    await waitGone(postgres);
    live.delete(this);
  }

  /**
   * kill -9 of the postmaster alone, Patroni left running: the "PostgreSQL crashed" drill. Patroni notices on its
   * next loop; with primary_start_timeout 0 a leader hands its lock over instead of restarting in place.
   */
  async crashPostgres(): Promise<void> {
    await this.killPostgres();
  }

  /** SIGSTOP of Patroni and PostgreSQL: sockets stay open, nothing answers ("hung, not dead"). */
  freeze(): void {
    const postgres = this.postgresTree();
    this.process.freeze();
    signalEach(postgres, 'SIGSTOP');
  }

  thaw(): void {
    signalEach(this.postgresTree(), 'SIGCONT');
    this.process.thaw();
  }

  /** GET /patroni with a short timeout; rejects when the member does not answer. */
  async status(timeoutMs = 1000): Promise<PatroniStatus> {
    const res = await fetch(`${this.restUrl}/patroni`, { signal: AbortSignal.timeout(timeoutMs) });
    // 503 still carries the status body (a replica that is not running yet, say).
    return (await res.json()) as PatroniStatus;
  }

  query<T = Record<string, unknown>>(sql: string, params: unknown[] = [], options?: QueryOptions): Promise<T[]> {
    return queryOnce<T>((database) => this.url(database), sql, params, options);
  }

  isInRecovery(timeoutMs = 1000): Promise<boolean> {
    return inRecovery((database) => this.url(database), timeoutMs);
  }

  /** The running postmaster of this member's data dir, from postmaster.pid. */
  postmasterPid(): number | undefined {
    let pid: number;
    try {
      pid = Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return undefined;
    }
    // A stale file (after kill -9) may name a pid that has since gone or been reused by something else.
    return pid > 0 && isAlive(pid) && commandName(pid) === 'postgres' ? pid : undefined;
  }

  killPostgresNow(): void {
    signalEach(this.postgresTree(), 'SIGKILL');
  }

  private async killPostgres(): Promise<void> {
    const tree = this.postgresTree();
    signalEach(tree, 'SIGKILL');
    await waitGone(tree);
  }

  private postgresTree(): number[] {
    const pid = this.postmasterPid();
    return pid === undefined ? [] : processTree(pid);
  }
}

async function waitGone(pids: readonly number[], timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(20);
}
