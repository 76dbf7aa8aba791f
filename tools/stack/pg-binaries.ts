import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const REQUIRED = ['initdb', 'postgres', 'pg_basebackup'] as const;

export const INSTALL_HINT =
  'PostgreSQL server binaries (initdb, postgres, pg_basebackup) were not found.\n' +
  'Install them, then run again:\n' +
  '  Debian/Ubuntu:  sudo apt-get install -y postgresql\n' +
  '  Fedora/RHEL:    sudo dnf install -y postgresql-server\n' +
  '  macOS:          brew install postgresql@16\n' +
  'Or put their directory on PATH, or set PG_BIN=/path/to/postgresql/bin.';

let cached: string | undefined;

/** The directory holding initdb, postgres and pg_basebackup: $PG_BIN, PATH, `pg_config --bindir`, then /usr/lib/postgresql/<newest>/bin. */
export function findPgBinDir(): string {
  if (cached) return cached;
  const candidates = [
    process.env.PG_BIN,
    ...(process.env.PATH ?? '').split(delimiter),
    pgConfigBindir(),
    ...debianBinDirs(),
    '/usr/local/pgsql/bin',
    '/opt/homebrew/bin',
  ];
  const found = candidates.find((dir): dir is string => !!dir && REQUIRED.every((bin) => existsSync(join(dir, bin))));
  if (!found) throw new Error(INSTALL_HINT);
  cached = found;
  return found;
}

export function pgBin(name: 'initdb' | 'postgres' | 'pg_basebackup'): string {
  return join(findPgBinDir(), name);
}

function pgConfigBindir(): string | undefined {
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function debianBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(root, v, 'bin'));
}
