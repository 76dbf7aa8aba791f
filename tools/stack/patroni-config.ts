import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SUPERUSER } from './postgres-node';

export const PATRONI_INSTALL_HINT =
  'Patroni >= 4 was not found. Install it, then run again:\n' +
  "  Debian/Ubuntu:  tools/setup/system-packages.sh   (bookworm's own Patroni 3 loses acknowledged writes)\n" +
  'Or set PATRONI_PYTHONPATH to the directory that holds the `patroni` Python package.';

/** Debian's Python 3: it has psycopg2 and Patroni's other dependencies (a pyenv python3 on PATH may not). */
export const PATRONI_PYTHON = '/usr/bin/python3';
export const REPLICATION_USER = 'replicator';
const MIN_MAJOR_VERSION = 4;

/** The directory holding the `patroni` package (>= 4): $PATRONI_PYTHONPATH, tools/setup/patroni.sh's cache, then Debian's. */
export function findPatroniLib(): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const candidates = [
    process.env.PATRONI_PYTHONPATH,
    join(cache, 'zero-to-millions', 'patroni-trixie', 'root', 'usr', 'lib', 'python3', 'dist-packages'),
    '/usr/lib/python3/dist-packages',
  ];
  const found = candidates.find((dir) => !!dir && (patroniMajorVersion(dir) ?? 0) >= MIN_MAJOR_VERSION);
  if (!found) throw new Error(PATRONI_INSTALL_HINT);
  return found;
}

function patroniMajorVersion(lib: string): number | undefined {
  const file = join(lib, 'patroni', 'version.py');
  if (!existsSync(file)) return undefined;
  const match = /__version__ = '(\d+)\./.exec(readFileSync(file, 'utf8'));
  return match ? Number(match[1]) : undefined;
}

export interface PatroniConfigInput {
  readonly scope: string;
  readonly name: string;
  readonly memberDir: string;
  readonly dataDir: string;
  readonly binDir: string;
  readonly pgPort: number;
  readonly restPort: number;
  readonly etcdHosts: readonly string[];
  /** synchronous_mode: only a standby that confirmed every commit may be promoted. */
  readonly synchronous: boolean;
}

/**
 * One member's Patroni configuration, as JSON: YAML is a superset of JSON, so Patroni reads it as config.yml
 * and we need no YAML writer.
 */
export function patroniConfig(c: PatroniConfigInput): string {
  const config = {
    scope: c.scope,
    name: c.name,
    log: { level: 'INFO' },
    restapi: { listen: `127.0.0.1:${c.restPort}`, connect_address: `127.0.0.1:${c.restPort}` },
    etcd3: { hosts: c.etcdHosts },
    bootstrap: {
      // The cluster-wide settings Patroni writes to etcd once, when the first member initialises the cluster.
      dcs: {
        // The leader key's lease: Patroni 4 raises anything below 20 s to 20 (and logs a warning), so a dead
        // leader is replaced after about ttl + loop_wait.
        ttl: 20,
        loop_wait: 2,
        retry_timeout: 5,
        maximum_lag_on_failover: 1024 * 1024,
        // A leader whose PostgreSQL crashed (Patroni alive) releases the lock at once when a healthy synchronous
        // standby can take over, rather than restarting in place for up to 300 s (the default): a failover in
        // about loop_wait. Safe only with synchronous_mode, where the standby holds every acknowledged commit;
        // without it Patroni's docs warn that this can lose transactions, and the restart is the better choice.
        primary_start_timeout: c.synchronous ? 0 : 300,
        synchronous_mode: c.synchronous,
        postgresql: {
          use_pg_rewind: true,
          use_slots: true,
          parameters: {
            // pg_rewind needs hint bits WAL-logged (or data checksums) to rewind an old leader.
            wal_log_hints: 'on',
            hot_standby: 'on',
            max_wal_senders: 10,
            max_replication_slots: 10,
            wal_keep_size: '256MB',
          },
        },
      },
      initdb: [{ encoding: 'UTF8' }, { locale: 'C' }],
    },
    postgresql: {
      listen: `127.0.0.1:${c.pgPort}`,
      connect_address: `127.0.0.1:${c.pgPort}`,
      data_dir: c.dataDir,
      bin_dir: c.binDir,
      pgpass: join(c.memberDir, 'pgpass'),
      // A spread checkpoint makes a new replica wait for up to checkpoint_timeout before its copy starts.
      basebackup: [{ checkpoint: 'fast' }],
      // Local development: pg_hba trusts loopback, so these passwords are only what Patroni sets on the roles.
      authentication: {
        superuser: { username: SUPERUSER, password: SUPERUSER },
        replication: { username: REPLICATION_USER, password: REPLICATION_USER },
      },
      pg_hba: ['local all all trust', 'host all all 127.0.0.1/32 trust', 'host replication all 127.0.0.1/32 trust'],
      parameters: {
        unix_socket_directories: c.memberDir,
        max_connections: 100,
        shared_buffers: '32MB',
        // Replicas report progress every second: fresh lag and prompt synchronous-commit acknowledgements.
        wal_receiver_status_interval: '1s',
        hot_standby_feedback: 'on',
        log_line_prefix: '%m [%p] %q%a ',
      },
    },
    watchdog: { mode: 'off' },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
