import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function onPath(cmd: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** wrk, installed from apt when missing (the package runs no service). */
export function ensureWrk(log: (line: string) => void): string {
  const found = onPath('wrk');
  if (found) return found;
  log('wrk is missing: apt-get install -y wrk');
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'wrk'], { stdio: 'inherit' });
  return onPath('wrk') ?? 'wrk';
}

/**
 * An nginx binary for the benchmark's own private instance. When none is installed, the Debian
 * package is downloaded and unpacked into a temp dir instead of installed, because installing it
 * starts the system nginx service on port 80, and this benchmark must never touch a system nginx.
 */
export function ensureNginx(log: (line: string) => void): string {
  const found = onPath('nginx') ?? ['/usr/sbin/nginx'].find((p) => existsSync(p));
  if (found) return found;
  const dir = join(tmpdir(), 'z2m-bench-nginx');
  const binary = join(dir, 'root', 'usr', 'sbin', 'nginx');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  log(`nginx is missing: apt-get download nginx, unpacked into ${dir} (no service is installed or started)`);
  execFileSync('apt-get', ['download', 'nginx'], { cwd: dir, stdio: 'inherit' });
  const deb = readdirSync(dir).find((f) => f.startsWith('nginx_') && f.endsWith('.deb'));
  if (!deb) throw new Error('apt-get download nginx produced no .deb');
  execFileSync('dpkg-deb', ['-x', join(dir, deb), join(dir, 'root')]);
  if (!existsSync(binary)) throw new Error(`no nginx binary in ${deb}`);
  return binary;
}

export interface WrkResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

/** Parses `wrk --latency` output. */
export function parseWrk(output: string): WrkResult {
  const latency = (pct: string) => {
    const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(output);
    if (!m) throw new Error(`no ${pct}% latency in wrk output:\n${output}`);
    return Number(m[1]) * UNIT_MS[m[2]!]!;
  };
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
  if (!rps) throw new Error(`no Requests/sec in wrk output:\n${output}`);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  const errors =
    (socketErrors ? socketErrors.slice(1).reduce((n, v) => n + Number(v), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return { requestsPerSecond: Number(rps[1]), p50Ms: latency('50'), p99Ms: latency('99'), errors };
}

/** CPU time (user + system, ms) used so far by a process and its descendants, from /proc (Linux). */
export function cpuTimeMs(rootPid: number): number {
  const ticksPerMs = 100 / 1000; // USER_HZ is 100 on Linux
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may contain spaces): state ppid ... utime(14) stime(15).
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(entry), { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) });
    } catch {
      // exited meanwhile
    }
  }
  let ticks = 0;
  const walk = (pid: number) => {
    ticks += stats.get(pid)?.ticks ?? 0;
    for (const [child, s] of stats) if (s.ppid === pid) walk(child);
  };
  walk(rootPid);
  return ticks / ticksPerMs;
}
