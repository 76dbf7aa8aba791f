import { execFile, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ManagedProcess } from '../tools/stack/managed-process';
import { DIST, ensureBuilt, REPO_ROOT } from '../tools/stack/node-programs';
import { freePort, sleep, waitForPort } from '../tools/stack/ports';
import { nginxConfig } from './support/nginx-config';
import { cpuTimeMs, ensureNginx, ensureWrk, parseWrk, type WrkResult } from './support/tools';

/**
 * npm run bench:gateway — one run, same three upstreams, same wrk settings, four ways in:
 * direct to one upstream, nginx (round-robin, upstream keepalive), Fastify + @fastify/reply-from,
 * and this gateway (health checks every second, metrics and the edge cache on, as deployed).
 * The upstreams are bare node:http handlers (bench/upstream-server.ts) answering a 40-byte JSON body,
 * so what differs between rows is the proxy. Rounds are interleaved; each row reports its median round.
 */
const run = promisify(execFile);
const env = process.env;
const DURATION = env.BENCH_DURATION ?? '8s';
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 64);
const THREADS = Number(env.BENCH_THREADS ?? 2);
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const NGINX_WORKERS = Number(env.BENCH_NGINX_WORKERS ?? 1);
const log = (line: string) => console.log(`[bench] ${line}`);

interface Target {
  readonly name: string;
  readonly url: string;
  /** The process whose CPU time is charged to this row (the proxy; the upstream for "direct"). */
  readonly pid: number;
}

/** One wrk run plus the CPU the measured process spent on it: µs per request holds up under a busy machine. */
interface Measured extends WrkResult {
  readonly cpuUsPerRequest: number;
}

async function main(): Promise<void> {
  await ensureBuilt(log);
  const wrk = ensureWrk(log);
  const nginx = ensureNginx(log);
  const dir = mkdtempSync(join(tmpdir(), 'z2m-bench-gateway-'));
  const processes: ManagedProcess[] = [];
  const spawn = (name: string, command: string, args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const p = new ManagedProcess({
      name,
      command,
      args: [...args],
      env: { ...env, ...extraEnv },
      cwd: REPO_ROOT,
      logFile: join(dir, `${name}.log`),
    });
    p.start();
    processes.push(p);
    return p;
  };
  const tsx = (file: string, ...args: string[]) =>
    [process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench', file), ...args]] as const;

  try {
    const upstreamPorts = await Promise.all([1, 2, 3].map(() => freePort()));
    const upstreams = upstreamPorts.map((p) => `http://127.0.0.1:${p}`);
    upstreamPorts.forEach((port, i) =>
      spawn(`upstream-${i + 1}`, ...tsx('upstream-server.ts', String(port), `upstream-${i + 1}`)),
    );

    const [nginxPort, replyFromPort, gatewayPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const prefix = join(dir, 'nginx');
    mkdirSync(prefix, { recursive: true });
    writeFileSync(
      join(prefix, 'nginx.conf'),
      nginxConfig({ port: nginxPort, upstreams, prefix, workers: NGINX_WORKERS }),
    );
    const nginxProc = spawn('nginx', nginx, [
      '-p',
      prefix,
      '-c',
      join(prefix, 'nginx.conf'),
      '-e',
      join(prefix, 'error.log'),
    ]);
    const replyFrom = spawn('reply-from', ...tsx('reply-from-proxy.ts', String(replyFromPort), upstreams.join(',')));
    const gatewayProc = spawn('gateway', process.execPath, [join(DIST, 'gateway', 'main.js')], {
      UPSTREAMS: upstreams.join(','),
      GATEWAY_PORT: String(gatewayPort),
      GATEWAY_LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
    });
    await Promise.all([...upstreamPorts, nginxPort, replyFromPort, gatewayPort].map((p) => waitForPort(p, 20_000)));
    await sleep(1500);

    const targets: Target[] = [
      { name: 'direct (one upstream)', url: `${upstreams[0]}/`, pid: processes[0]!.pid! },
      {
        name: `nginx ${nginxVersion(nginx)} (${NGINX_WORKERS} worker)`,
        url: `http://127.0.0.1:${nginxPort}/`,
        pid: nginxProc.pid!,
      },
      { name: '@fastify/reply-from', url: `http://127.0.0.1:${replyFromPort}/`, pid: replyFrom.pid! },
      { name: 'this gateway', url: `http://127.0.0.1:${gatewayPort}/`, pid: gatewayProc.pid! },
    ];
    log(
      `wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION} --latency, ${ROUNDS} interleaved rounds, ${cpus().length} CPUs`,
    );
    for (const t of targets) await run(wrk, ['-t1', '-c16', '-d2s', t.url]); // warm-up: JIT, pools
    const rounds = new Map<string, Measured[]>(targets.map((t) => [t.name, []]));
    for (let r = 1; r <= ROUNDS; r++) {
      for (const t of targets) {
        const cpuBefore = cpuTimeMs(t.pid);
        const { stdout } = await run(wrk, [`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${DURATION}`, '--latency', t.url]);
        const wrkResult = parseWrk(stdout);
        const requests = wrkResult.requestsPerSecond * parseFloat(DURATION);
        const result = { ...wrkResult, cpuUsPerRequest: ((cpuTimeMs(t.pid) - cpuBefore) * 1000) / requests };
        rounds.get(t.name)!.push(result);
        log(
          `round ${r} ${t.name}: ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, ` +
            `p99 ${result.p99Ms.toFixed(2)} ms, ${result.cpuUsPerRequest.toFixed(0)} µs CPU/req, errors ${result.errors}`,
        );
      }
    }
    report(targets, rounds);
  } finally {
    await Promise.all(processes.reverse().map((p) => p.stop('SIGTERM', 5000)));
    rmSync(dir, { recursive: true, force: true });
  }
}

const medianOf = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function median(results: Measured[]): Measured {
  return [...results].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(results.length / 2)]!;
}

/**
 * Rows show each target's median round. Ratios are taken within each round (targets measured minutes
 * apart see different loads on a shared machine) and the median of those is reported.
 */
function report(targets: Target[], rounds: Map<string, Measured[]>): void {
  const [, nginx, replyFrom, gateway] = targets.map((t) => rounds.get(t.name)!);
  const perRound = (f: (i: number) => number) => medianOf(nginx!.map((_, i) => f(i)));
  const rows = targets.map((t) => {
    const r = median(rounds.get(t.name)!);
    const ratio = perRound((i) => rounds.get(t.name)![i]!.requestsPerSecond / nginx![i]!.requestsPerSecond).toFixed(2);
    return `| ${t.name} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${ratio}x | ${r.cpuUsPerRequest.toFixed(0)} | ${r.errors} |`;
  });
  const goal = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const tput = perRound((i) => gateway![i]!.requestsPerSecond / nginx![i]!.requestsPerSecond);
  const vsReplyFrom = perRound((i) => gateway![i]!.requestsPerSecond / replyFrom![i]!.requestsPerSecond);
  const p99 = perRound((i) => gateway![i]!.p99Ms / nginx![i]!.p99Ms);
  const cpu = (a: Measured[], b: Measured[]) =>
    perRound((i) => a[i]!.cpuUsPerRequest / b[i]!.cpuUsPerRequest).toFixed(2);
  console.log(`
| target | req/s | p50 ms | p99 ms | req/s vs nginx | CPU µs/req | errors |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Median of per-round ratios (${nginx!.length} rounds):
gateway / nginx throughput:       ${tput.toFixed(2)}x  (goal >= 0.5x: ${goal(tput >= 0.5)})
gateway / reply-from throughput:  ${vsReplyFrom.toFixed(2)}x  (goal >= 1.2x: ${goal(vsReplyFrom >= 1.2)})
gateway p99 / nginx p99:          ${p99.toFixed(2)}x  (goal <= 2x: ${goal(p99 <= 2)})
CPU per request, gateway / nginx: ${cpu(gateway!, nginx!)}x; gateway / reply-from: ${cpu(gateway!, replyFrom!)}x
`);
}

function nginxVersion(binary: string): string {
  // nginx -v prints to stderr.
  return /nginx\/([\d.]+)/.exec(spawnSync(binary, ['-v'], { encoding: 'utf8' }).stderr)?.[1] ?? '';
}

main().catch((err: Error) => {
  console.error(`[bench] ${err.message}`);
  process.exit(1);
});
