import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceUser } from './service-user';

export interface ProcessSpec {
  /** Stable name: primary, replica-1, redis, api-1, worker-1, gateway. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly logFile: string;
  readonly user?: ServiceUser;
}

export type ProcessState = 'not started' | 'running' | 'frozen' | 'exited';

const live = new Set<ManagedProcess>();
// Last line of defence: whatever way this process ends, it takes no child with it into orphanhood.
process.once('exit', () => {
  for (const p of live) p.killNow();
});

/**
 * One child process with a stable name and its output in a log file. It runs in its own process group,
 * so a signal reaches every process it forks (PostgreSQL's backends too), and Ctrl-C in the terminal
 * reaches only the stack runner, which then stops children in order.
 */
export class ManagedProcess {
  private child?: ChildProcess;
  private exitPromise?: Promise<number | null>;
  private frozen = false;
  private lastExit?: { code: number | null; signal: NodeJS.Signals | null };
  private readonly exitListeners: Array<(code: number | null, signal: NodeJS.Signals | null) => void> = [];

  constructor(readonly spec: ProcessSpec) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  get state(): ProcessState {
    if (!this.child) return 'not started';
    if (this.pid === undefined) return 'exited';
    return this.frozen ? 'frozen' : 'running';
  }

  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.lastExit;
  }

  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.exitListeners.push(listener);
  }

  start(): void {
    if (this.pid !== undefined) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    mkdirSync(dirname(this.spec.logFile), { recursive: true });
    const log = openSync(this.spec.logFile, 'a');
    try {
      this.child = spawn(this.spec.command, [...this.spec.args], {
        cwd: this.spec.cwd,
        env: this.spec.env ?? process.env,
        stdio: ['ignore', log, log],
        detached: true,
        uid: this.spec.user?.uid,
        gid: this.spec.user?.gid,
      });
    } finally {
      closeSync(log);
    }
    const child = this.child;
    this.frozen = false;
    this.lastExit = undefined;
    live.add(this);
    this.exitPromise = new Promise((resolve) => {
      child.once('error', (err) => {
        this.lastExit = { code: null, signal: null };
        live.delete(this);
        resolve(null);
        for (const l of this.exitListeners) l(null, null);
        console.error(`${this.name}: could not start ${this.spec.command}: ${err.message}`);
      });
      child.once('exit', (code, signal) => {
        this.lastExit = { code, signal };
        live.delete(this);
        resolve(code);
        for (const l of this.exitListeners) l(code, signal);
      });
    });
  }

  /** Asks the process to stop, escalating to SIGKILL after the grace period. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    if (this.pid === undefined) return;
    if (this.frozen) this.thaw();
    this.signalGroup(signal);
    const exited = await Promise.race([this.exitPromise!.then(() => true), delay(graceMs).then(() => false)]);
    if (!exited) {
      this.signalGroup('SIGKILL');
      await this.exitPromise;
    }
  }

  /** kill -9 of the whole process tree at once: the machine-died drill. */
  async kill(): Promise<void> {
    if (this.pid === undefined) return;
    this.signalTree('SIGKILL');
    await this.exitPromise;
  }

  /** SIGSTOP of the whole tree: every socket stays open but nothing answers ("hung, not dead"). */
  freeze(): void {
    if (this.pid === undefined) throw new Error(`${this.name} is not running`);
    this.signalTree('SIGSTOP');
    this.frozen = true;
  }

  thaw(): void {
    if (this.pid === undefined) throw new Error(`${this.name} is not running`);
    this.signalTree('SIGCONT');
    this.frozen = false;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.pid !== undefined) this.signalGroup(signal);
  }

  waitForExit(): Promise<number | null> {
    return this.exitPromise ?? Promise.resolve(null);
  }

  /**
   * Polls `ready` every `intervalMs` until it holds: fails at once, with the log tail, if the process exits
   * meanwhile, and with "<name> <notReady> after <timeoutMs> ms" at the deadline.
   */
  async waitUntil(
    ready: () => Promise<boolean>,
    options: { readonly timeoutMs: number; readonly intervalMs: number; readonly notReady: string },
  ): Promise<void> {
    const deadline = Date.now() + options.timeoutMs;
    while (!(await ready())) {
      if (this.state === 'exited') throw new Error(`${this.name} exited during startup:\n${this.logTail()}`);
      if (Date.now() > deadline) throw new Error(`${this.name} ${options.notReady} after ${options.timeoutMs} ms`);
      await sleep(options.intervalMs);
    }
  }

  /** The end of the log, for error messages. */
  logTail(lines = 20): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  killNow(): void {
    if (this.pid !== undefined) this.signalTree('SIGKILL');
  }

  /**
   * The group plus every descendant: PostgreSQL backends call setsid() and leave the postmaster's
   * group, so a group signal alone would freeze the postmaster while open connections still answer.
   */
  private signalTree(signal: NodeJS.Signals): void {
    const root = this.child?.pid;
    if (root === undefined) return;
    this.signalGroup(signal);
    for (const pid of descendants(root)) {
      try {
        process.kill(pid, signal);
      } catch {
        // exited meanwhile
      }
    }
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  }
}

/** Every descendant pid of `root`, from /proc (Linux) or `pgrep -P` elsewhere. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // Field 4 of /proc/<pid>/stat is the parent pid; the command name (field 2) may contain spaces.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
      } catch {
        // the process exited while we looked
      }
    }
  } catch {
    return pgrepDescendants(root);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

function pgrepDescendants(root: number): number[] {
  try {
    const direct = execFileSync('pgrep', ['-P', String(root)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
    return direct.flatMap((pid) => [pid, ...pgrepDescendants(pid)]);
  } catch {
    return [];
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
