import { readdirSync, readFileSync } from 'node:fs';

/** `root` and every descendant of it, from /proc (Linux only: the HA engines run on Debian). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = parentPid(Number(entry));
    if (ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]!) ?? []));
  return out;
}

/** The command name (comm) of a live process, or undefined once it is gone. */
export function commandName(pid: number): string | undefined {
  const stat = readStat(pid);
  return stat?.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
}

/** True while the process exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** Sends `signal` to each pid; the ones that exited meanwhile are skipped. */
export function signalEach(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

function parentPid(pid: number): number | undefined {
  const stat = readStat(pid);
  // Field 4 of /proc/<pid>/stat is the parent pid; the command name (field 2) may contain spaces.
  return stat === undefined ? undefined : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function readStat(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    // the process exited while we looked
    return undefined;
  }
}
