import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: the unit of /proc/<pid>/stat's times (100 on every Linux this runs on). */
const TICK_US = 10_000;

interface Stat {
  readonly comm: string;
  readonly ppid: number;
  /** utime + stime, and cutime + cstime: children it has reaped (a PostgreSQL backend that exited). */
  readonly ownUs: number;
  readonly reapedUs: number;
}

function readAll(): Map<number, Stat> {
  const stats = new Map<number, Stat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const raw = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')'));
      // Fields after the command name (which may contain spaces): state ppid ... utime(14) stime(15) cutime cstime.
      const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(entry), {
        comm,
        ppid: Number(f[1]),
        ownUs: (Number(f[11]) + Number(f[12])) * TICK_US,
        reapedUs: (Number(f[13]) + Number(f[14])) * TICK_US,
      });
    } catch {
      // exited meanwhile
    }
  }
  return stats;
}

/**
 * CPU time used so far, in µs, by each group of process trees: a group's roots and every descendant, each
 * process charged to a group by `classify(comm, rootGroup)` (a Patroni member's tree holds python and postgres).
 * Time of children reaped by a process in the tree counts too, so a short-lived PostgreSQL backend is not lost.
 */
export function cpuByGroup(
  roots: ReadonlyArray<{ pid: number; group: string }>,
  classify: (comm: string, rootGroup: string) => string = (_comm, group) => group,
): Map<string, number> {
  const stats = readAll();
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  const totals = new Map<string, number>();
  const seen = new Set<number>();
  for (const root of roots) {
    const queue = [root.pid];
    while (queue.length) {
      const pid = queue.pop()!;
      const s = stats.get(pid);
      if (!s || seen.has(pid)) continue;
      seen.add(pid);
      const group = classify(s.comm, root.group);
      totals.set(group, (totals.get(group) ?? 0) + s.ownUs + s.reapedUs);
      queue.push(...(children.get(pid) ?? []));
    }
  }
  return totals;
}
