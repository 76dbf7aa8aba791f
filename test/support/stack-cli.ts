import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../tools/stack/node-programs';
import { freePort, freePortRange, sleep } from '../../tools/stack/ports';

const run = promisify(execFile);
const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const CLI = join(REPO_ROOT, 'tools', 'stack', 'cli.ts');

/** `npm run stack` as a user runs it, in a temp STACK_DIR on free ports; `ctl` is `npm run stack -- <args>`. */
export interface StackCli {
  readonly ports: {
    readonly pg: number;
    readonly api: number;
    readonly redis: number;
    readonly gateway: number;
    readonly worker: number;
  };
  output(): string;
  /** stdout of a control command; rejects (with stdout) on a non-zero exit. */
  ctl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startStackCli(options: {
  replicas: number;
  apis: number;
  sync?: boolean;
  /** simple (default here): the hand-failover topology these drills were written for; ha: Patroni + etcd. */
  topology?: 'ha' | 'simple';
  env?: Record<string, string>;
  /** More `npm run stack` options, e.g. `--autoscale-workers 1..4`. */
  args?: readonly string[];
  /** Worker ports to keep free after --worker-port (the most workers the stack may run). */
  workerPorts?: number;
}): Promise<StackCli> {
  const dir = mkdtempSync(join(tmpdir(), 'z2m-stack-'));
  const env = { ...process.env, ...options.env, STACK_DIR: dir };
  const ports = {
    pg: await freePortRange(options.replicas + 2),
    api: await freePortRange(options.apis),
    redis: await freePort(),
    // Never the defaults (8080, 3101): a developer's own `npm run stack` may be running beside the tests.
    gateway: await freePort(),
    worker: await freePortRange(options.workerPorts ?? 2),
  };
  const args = [
    CLI,
    ...[
      '--apis',
      `${options.apis}`,
      '--replicas',
      `${options.replicas}`,
      '--pg-port',
      `${ports.pg}`,
      '--api-port',
      `${ports.api}`,
    ],
    ...['--redis-port', `${ports.redis}`, '--gateway-port', `${ports.gateway}`, '--worker-port', `${ports.worker}`],
  ];
  if (options.sync) args.push('--sync');
  args.push(...(options.args ?? []));
  if ((options.topology ?? 'simple') === 'simple') args.push('--simple');
  const child: ChildProcess = spawn(TSX, args, { env, cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    // Z2M_KEEP_STACK=1 keeps the stack's data and logs (logs/<name>.log) for a post-mortem.
    if (!process.env.Z2M_KEEP_STACK) rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  while (!output.includes('Ctrl-C stops every process')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`stack did not come up:\n${output}`);
    }
    await sleep(200);
  }
  return {
    ports,
    output: () => output,
    ctl: async (...a) => (await run(TSX, [CLI, ...a], { env, cwd: REPO_ROOT })).stdout,
    stop,
  };
}
