import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManagedProcess } from '../../tools/stack/managed-process';
import { nodeProgram, waitForHttp } from '../../tools/stack/node-programs';
import { freePort } from '../../tools/stack/ports';
import { waitForLogLine } from './api-process';

/** A real queue worker (node dist/worker.js), started the way `npm run stack` starts one. */
export interface WorkerInstance {
  readonly name: string;
  /** Its health and metrics listener. */
  readonly url: string;
  readonly process: ManagedProcess;
  log(): string;
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** One sample of its /metrics, summed over every series of `name` whose labels contain `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

const logDir = mkdtempSync(join(tmpdir(), 'z2m-worker-logs-'));

export async function startWorker(
  env: Readonly<Record<string, string>>,
  name = 'worker',
  extraEnv: Record<string, string> = {},
): Promise<WorkerInstance> {
  const port = await freePort();
  const proc = nodeProgram({
    name,
    script: 'worker.js',
    env: { ...process.env, ...env, HOST: '127.0.0.1', WORKER_HTTP_PORT: String(port), INSTANCE_ID: name, ...extraEnv },
    logFile: join(logDir, `${name}-${port}.log`),
  });
  proc.start();
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health/live`, proc, { servedBy: extraEnv.INSTANCE_ID ?? name });
  const read = () => proc.logTail(Number.MAX_SAFE_INTEGER);
  return {
    name,
    url,
    process: proc,
    log: read,
    waitForLog: (match, timeoutMs = 5000) => waitForLogLine(read, match, timeoutMs),
    metric: async (metric, labels = {}) => sumMetric(await (await fetch(`${url}/metrics`)).text(), metric, labels),
    stop: () => proc.stop('SIGTERM', 30_000),
  };
}

/** Sums the samples of `name` in a Prometheus text exposition whose labels include all of `labels`. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
