import { execFile } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inRecovery, type QueryOptions, queryOnce } from './pg-query';
import { ManagedProcess } from './managed-process';
import { pgBin } from './pg-binaries';
import { sleep } from './ports';
import { chownTree, type ServiceUser } from './service-user';

const run = promisify(execFile);

export interface PostgresNodeOptions {
  readonly name: string;
  readonly port: number;
  readonly dataDir: string;
  readonly logFile: string;
  readonly user?: ServiceUser;
  /** fsync and synchronous_commit off: fast for tests, never for drills that count lost writes. */
  readonly fast?: boolean;
  /** Extra postgresql.conf settings for this node. */
  readonly settings?: Readonly<Record<string, string | number>>;
}

export const SUPERUSER = 'postgres';

/** One PostgreSQL server (primary or streaming replica) on 127.0.0.1, run as a ManagedProcess. */
export class PostgresNode {
  readonly process: ManagedProcess;
  private settings: Readonly<Record<string, string | number>>;

  private constructor(readonly options: PostgresNodeOptions) {
    this.settings = options.settings ?? {};
    this.process = new ManagedProcess({
      name: options.name,
      command: pgBin('postgres'),
      args: ['-D', options.dataDir],
      logFile: options.logFile,
      user: options.user,
    });
  }

  get name(): string {
    return this.options.name;
  }

  get port(): number {
    return this.options.port;
  }

  /** Name as PostgreSQL sees it (application_name, synchronous_standby_names): no dashes. */
  get applicationName(): string {
    return this.name.replace(/-/g, '_');
  }

  url(database = 'app'): string {
    return `postgres://${SUPERUSER}@127.0.0.1:${this.port}/${database}`;
  }

  /** initdb a fresh primary. */
  static async initPrimary(options: PostgresNodeOptions): Promise<PostgresNode> {
    prepareDir(options);
    await run(
      pgBin('initdb'),
      ['-D', options.dataDir, '-A', 'trust', '-U', SUPERUSER, '-E', 'UTF8', '--locale=C', '--no-sync'],
      {
        uid: options.user?.uid,
        gid: options.user?.gid,
      },
    );
    const node = new PostgresNode(options);
    appendFileSync(join(options.dataDir, 'postgresql.conf'), "\ninclude_if_exists = 'node.conf'\n");
    node.writeNodeConf();
    return node;
  }

  /** pg_basebackup a streaming replica of `primary` (which must be running). */
  static async cloneReplica(primary: PostgresNode, options: PostgresNodeOptions): Promise<PostgresNode> {
    prepareDir(options);
    await run(
      pgBin('pg_basebackup'),
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(primary.port),
        '-U',
        SUPERUSER,
        '-D',
        options.dataDir,
        '-X',
        'stream',
        '--checkpoint=fast',
        '--no-sync',
      ],
      { uid: options.user?.uid, gid: options.user?.gid },
    );
    const node = new PostgresNode(options);
    node.writeNodeConf();
    writeFileSync(join(options.dataDir, 'standby.signal'), '');
    node.writePrimaryConninfo(primary);
    chownTree(options.dataDir, options.user);
    return node;
  }

  async start(timeoutMs = 30_000): Promise<void> {
    this.process.start();
    await this.waitReady(timeoutMs);
  }

  /** Resolves once the server accepts queries. */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.process.state === 'exited')
        throw new Error(`${this.name} exited during startup:\n${this.process.logTail()}`);
      try {
        await this.query('SELECT 1', [], { database: 'postgres', timeoutMs: 1000 });
        return;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`${this.name} not ready after ${timeoutMs} ms: ${(err as Error).message}`, { cause: err });
        await sleep(100);
      }
    }
  }

  /** Fast shutdown (SIGINT): rolls back open transactions, then exits. */
  stop(): Promise<void> {
    return this.process.stop('SIGINT', 15_000);
  }

  query<T = Record<string, unknown>>(sql: string, params: unknown[] = [], options?: QueryOptions): Promise<T[]> {
    return queryOnce<T>((database) => this.url(database), sql, params, options);
  }

  isInRecovery(timeoutMs = 1000): Promise<boolean> {
    return inRecovery((database) => this.url(database), timeoutMs);
  }

  /**
   * The timeline this node writes (a primary) or receives (a streaming replica). From the WAL file name, since
   * pg_control_checkpoint() shows the old timeline until the post-promotion checkpoint completes.
   */
  async timeline(timeoutMs = 1000): Promise<number | null> {
    const [row] = await this.query<{ tli: number | null }>(
      `SELECT CASE WHEN pg_is_in_recovery() THEN (SELECT received_tli FROM pg_stat_wal_receiver)
                   ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS tli`,
      [],
      { database: 'postgres', timeoutMs },
    );
    return row!.tli;
  }

  /** The port this replica streams from, when it streams. */
  async upstreamPort(timeoutMs = 1000): Promise<number | null> {
    const rows = await this.query<{ port: number }>(
      `SELECT sender_port AS port FROM pg_stat_wal_receiver WHERE status = 'streaming'`,
      [],
      {
        database: 'postgres',
        timeoutMs,
      },
    );
    return rows[0]?.port ?? null;
  }

  /** Turns this replica into a primary and waits until it accepts writes. */
  async promote(timeoutMs = 30_000): Promise<void> {
    await this.query('SELECT pg_promote(true, $1)', [Math.ceil(timeoutMs / 1000)], { database: 'postgres', timeoutMs });
  }

  /** Adds settings to node.conf and reloads them (for settings that need the cluster complete, like synchronous standbys). */
  async applySettings(settings: Readonly<Record<string, string | number>>): Promise<void> {
    this.settings = { ...this.settings, ...settings };
    this.writeNodeConf();
    await this.query('SELECT pg_reload_conf()', [], { database: 'postgres' });
  }

  /** Points this replica at another primary; the timeline switch follows by default. */
  async follow(primary: PostgresNode): Promise<void> {
    const conninfo = this.conninfoFor(primary);
    await this.query(`ALTER SYSTEM SET primary_conninfo = '${conninfo}'`, [], { database: 'postgres' });
    await this.query('SELECT pg_reload_conf()', [], { database: 'postgres' });
  }

  private conninfoFor(primary: PostgresNode): string {
    return `host=127.0.0.1 port=${primary.port} user=${SUPERUSER} application_name=${this.applicationName}`;
  }

  private writePrimaryConninfo(primary: PostgresNode): void {
    appendFileSync(
      join(this.options.dataDir, 'postgresql.auto.conf'),
      `primary_conninfo = '${this.conninfoFor(primary)}'\n`,
    );
  }

  private writeNodeConf(): void {
    const settings: Record<string, string | number> = {
      port: this.port,
      listen_addresses: `'127.0.0.1'`,
      unix_socket_directories: `''`,
      cluster_name: `'${this.applicationName}'`,
      max_connections: 200,
      shared_buffers: `'64MB'`,
      wal_level: 'replica',
      max_wal_senders: 16,
      wal_keep_size: `'512MB'`,
      hot_standby: 'on',
      // Replicas report replay progress every second; lag and sync-commit acks stay fresh.
      wal_receiver_status_interval: `'1s'`,
      hot_standby_feedback: 'on',
      log_line_prefix: `'%m [%p] %q%a '`,
      ...(this.options.fast ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } : {}),
      ...this.settings,
    };
    const body = Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n');
    writeFileSync(join(this.options.dataDir, 'node.conf'), `# written by tools/stack for ${this.name}\n${body}\n`);
    chownTree(join(this.options.dataDir, 'node.conf'), this.options.user);
  }
}

function prepareDir({ dataDir, user }: PostgresNodeOptions): void {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chownTree(dataDir, user);
}
