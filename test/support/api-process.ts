import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManagedProcess } from '../../tools/stack/managed-process';
import { nodeProgram, waitForHttp } from '../../tools/stack/node-programs';
import { freePort, sleep } from '../../tools/stack/ports';

/** A real API process (node dist/main.js) on a free port, started the same way `npm run stack` starts one. */
export interface ApiInstance {
  readonly name: string;
  readonly url: string;
  readonly process: ManagedProcess;
  /** Everything the process printed so far (its structured log). */
  log(): string;
  /** The first JSON log line matching `match`, waiting for it: pino writes asynchronously. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
  /** Starts the stopped (or killed) process again on the same address, and waits until it serves. */
  start(): Promise<void>;
}

const logDir = mkdtempSync(join(tmpdir(), 'z2m-api-logs-'));

export async function startApi(
  env: Readonly<Record<string, string>>,
  name = 'api',
  extraEnv: Record<string, string> = {},
): Promise<ApiInstance> {
  // extraEnv may pin HOST (another loopback address) and PORT, e.g. for DNS discovery tests.
  const host = extraEnv.HOST ?? '127.0.0.1';
  const port = extraEnv.PORT ? Number(extraEnv.PORT) : await freePort();
  const logFile = join(logDir, `${name}-${port}.log`);
  const proc = nodeProgram({
    name,
    script: 'main.js',
    env: { ...process.env, ...env, HOST: host, PORT: String(port), INSTANCE_ID: name, ...extraEnv },
    logFile,
  });
  proc.start();
  const url = `http://${host}:${port}`;
  await waitForHttp(`${url}/health/live`, proc, { servedBy: extraEnv.INSTANCE_ID ?? name });
  return {
    name,
    url,
    process: proc,
    log: () => proc.logTail(Number.MAX_SAFE_INTEGER),
    waitForLog: (match, timeoutMs = 5000) =>
      waitForLogLine(() => proc.logTail(Number.MAX_SAFE_INTEGER), match, timeoutMs),
    stop: () => proc.stop('SIGTERM', 15_000),
    start: async () => {
      proc.start();
      await waitForHttp(`${url}/health/live`, proc, { servedBy: extraEnv.INSTANCE_ID ?? name });
    },
  };
}

export async function waitForLogLine(
  read: () => string,
  match: (line: Record<string, unknown>) => boolean,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = read()
      .split('\n')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      })
      .find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no log line matched within ${timeoutMs} ms`);
    await sleep(50);
  }
}
