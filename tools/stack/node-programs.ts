import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ManagedProcess } from './managed-process';
import { sleep } from './ports';

const run = promisify(execFile);

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const DIST = join(REPO_ROOT, 'dist');

/**
 * Node's on-disk compile cache (V8 code cache, keyed by each file's content, so a rebuild never serves stale
 * code): the stack starts 5 Node programs at once on a small machine, and module loading is most of each one's
 * start-up. An explicit NODE_COMPILE_CACHE (or NODE_DISABLE_COMPILE_CACHE) in the environment wins.
 */
export const COMPILE_CACHE_DIR = join(REPO_ROOT, 'node_modules', '.cache', 'node-compile-cache');
const withCompileCache = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
  NODE_COMPILE_CACHE: COMPILE_CACHE_DIR,
  ...env,
});

export interface NodeProgramOptions {
  readonly name: string;
  /** Path under dist/, e.g. 'main.js'. */
  readonly script: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logFile: string;
}

/** A built program of this repo (API, worker, gateway) as a ManagedProcess. */
export function nodeProgram({ name, script, env, logFile }: NodeProgramOptions): ManagedProcess {
  return new ManagedProcess({
    name,
    command: process.execPath,
    args: ['--enable-source-maps', join(DIST, script)],
    env: withCompileCache(env),
    cwd: REPO_ROOT,
    logFile,
  });
}

/**
 * Polls an HTTP URL until it answers 2xx; fails early with the log tail if the process dies. With `servedBy`,
 * only an answer stamped `x-served-by: <servedBy>` counts: another server that happens to hold the port (a
 * Patroni REST API answers 200 to any path containing "health") is not mistaken for ours.
 */
export async function waitForHttp(
  url: string,
  proc: ManagedProcess,
  { timeoutMs = 30_000, servedBy }: { timeoutMs?: number; servedBy?: string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let stranger = '';
  for (;;) {
    if (proc.state === 'exited') throw new Error(`${proc.name} exited during startup:${stranger}\n${proc.logTail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      const by = res.headers.get('x-served-by');
      if (res.ok && (servedBy === undefined || by === servedBy)) return;
      if (res.ok) stranger = ` (${url} is answered by ${by ? `"${by}"` : 'a process that is not ours'})`;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline)
      throw new Error(`${proc.name} did not answer ${url} within ${timeoutMs} ms${stranger}:\n${proc.logTail()}`);
    await sleep(100);
  }
}

/** `npm run migration:run` against the given environment (the same command a user runs). */
export async function runMigrations(env: NodeJS.ProcessEnv): Promise<string> {
  const cli = join(REPO_ROOT, 'node_modules', 'typeorm', 'cli.js');
  const { stdout } = await run(
    process.execPath,
    [cli, 'migration:run', '-d', join(DIST, 'infra/database/data-source.js')],
    { env: withCompileCache(env), cwd: REPO_ROOT },
  );
  return stdout;
}

/** Compiles src/ into dist/ when any source file is newer than the last build. */
export async function ensureBuilt(log: (line: string) => void = () => undefined): Promise<void> {
  const stamp = join(DIST, '.tsbuildinfo');
  const builtAt = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  if (builtAt > newestMtime(join(REPO_ROOT, 'src'))) return;
  log('building (tsc -p tsconfig.build.json)...');
  await run(
    process.execPath,
    [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: REPO_ROOT,
    },
  ).catch((err: Error & { stdout?: string }) => {
    throw new Error(`build failed:\n${err.stdout ?? err.message}`, { cause: err });
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}
