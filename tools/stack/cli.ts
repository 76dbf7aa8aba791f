import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sendControl, serveControl } from './control';
import { DRILLS, runDrill } from './drills/drill-runner';
import { LocalStack, type StackOptions } from './local-stack';
import { ensureBuilt, REPO_ROOT } from './node-programs';
import { addReplica, promoteReplica } from './replication-drills';
import { runQueueBurst } from './drills/queue-burst';
import { renderTable } from './table';
import { parseWorkerBounds } from './worker-autoscaler';

const USAGE = `Usage: npm run stack [-- <command>] [options]

Commands:
  up (default)        start the whole stack in the foreground; Ctrl-C stops it all
  status [--json]     name, pid, address, state and health of every process (--json: one object per line,
                      with kind and role too)
  stop <name>         stop one process gracefully (it is not restarted by itself)
  start <name>        start a stopped process again
  kill <name>         kill -9, the machine-died drill (a PostgreSQL member: Patroni and its postmaster together)
  crash <member>      kill -9 of a PostgreSQL member's postmaster alone; its Patroni stays up and reacts
  freeze <name>       SIGSTOP: alive but unresponsive, the "hung, not dead" drill
  thaw <name>         SIGCONT after a freeze
  switchover [member] planned: Patroni hands the leader role to a replica (the named one, or its pick)
  failover <member>   forced: Patroni promotes this replica now
  drill <name>        run a named failure under a built-in mixed load through the gateway, print a per-second
                      timeline and what it cost (failed reads, write gap, lost writes), and write an SVG chart
                      to .stack/drills/. Drills: ${DRILLS.join(', ')}
  drill queue-burst   enqueue a burst of render jobs (--jobs N, default 400) and follow the queue's depth, the
                      worker processes and the jobs/s each second until it drained and the workers are back
                      to their minimum (run the stack with --autoscale-workers to watch them scale)
  promote <replica>   --simple only: promote a replica by hand and point the other replicas at it
  add-replica         --simple only: clone a new replica from the current primary; APIs start using it

Options for up (or env):
  --apis N            API instances (STACK_APIS, default 3)
  --api-port P        first API port (STACK_API_PORT, default 3001); private, behind the gateway
  --gateway-port P    the gateway, the stack's public entry (STACK_GATEWAY_PORT, default 8080)
  --workers N         queue workers (STACK_WORKERS, default 1)
  --worker-port P     first worker health/metrics port (STACK_WORKER_PORT, default 3101)
  --autoscale-workers MIN..MAX
                      worker processes follow the queue's backlog between MIN and MAX, by the rule KEDA's
                      HPA applies (STACK_AUTOSCALE_WORKERS; instead of --workers; docs/queue.md)
  --autoscale-target N   backlog one worker should carry (STACK_AUTOSCALE_TARGET, default 50)
  --autoscale-cooldown S seconds the backlog must stay low before workers are drained (default 30)
  --replicas N        PostgreSQL streaming replicas (STACK_REPLICAS, default 2)
  --pg-port P         primary port; replicas take the next ones (STACK_PG_PORT, default 54320)
  --redis-port P      Redis port (STACK_REDIS_PORT, default 63790)
  --sync              --simple: synchronous replication, ANY 1 replica confirms each commit (STACK_SYNC=1);
                      the default (HA) topology always runs Patroni's synchronous_mode
  --simple            one primary and plain replicas, no Patroni or etcd: failover is \`promote\` by hand
                      (STACK_SIMPLE=1). Default: etcd x3 and every PostgreSQL node under Patroni.

Names: gateway, etcd-1..3, pg-1.. (--simple: primary, replica-1..), redis, api-1.., worker-1..`;

// STACK_DIR lets tests (or a second checkout) run a stack without touching this one's .stack/.
const ROOT = process.env.STACK_DIR ? resolve(process.env.STACK_DIR) : join(REPO_ROOT, '.stack');
const SOCKET = join(ROOT, 'control.sock');

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      apis: { type: 'string' },
      'api-port': { type: 'string' },
      'gateway-port': { type: 'string' },
      workers: { type: 'string' },
      'worker-port': { type: 'string' },
      'autoscale-workers': { type: 'string' },
      'autoscale-target': { type: 'string' },
      'autoscale-cooldown': { type: 'string' },
      jobs: { type: 'string' },
      replicas: { type: 'string' },
      'pg-port': { type: 'string' },
      'redis-port': { type: 'string' },
      sync: { type: 'boolean' },
      json: { type: 'boolean' },
      simple: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command = 'up', ...args] = positionals;
  if (values.help || command === 'help') return void console.log(USAGE);
  if (command === 'drill') return drill(args, values.jobs, values.json ?? false);
  if (command !== 'up') {
    const { ok, output } = await sendControl(SOCKET, { command, args: values.json ? [...args, '--json'] : args });
    console.log(output);
    if (!ok) process.exitCode = 1;
    return;
  }
  const autoscaleSpec = values['autoscale-workers'] ?? process.env.STACK_AUTOSCALE_WORKERS;
  const workersSpec = values.workers ?? process.env.STACK_WORKERS;
  if (autoscaleSpec !== undefined && workersSpec !== undefined)
    throw new Error(
      '--workers (STACK_WORKERS) and --autoscale-workers exclude each other: with autoscaling the stack starts MIN',
    );
  // Checked before anything starts: a bad bound must not leave half a stack behind.
  const autoscale =
    autoscaleSpec === undefined
      ? undefined
      : {
          bounds: parseWorkerBounds(autoscaleSpec),
          policy: {
            targetPerWorker: count(
              '--autoscale-target',
              values['autoscale-target'] ?? process.env.STACK_AUTOSCALE_TARGET,
              50,
              1,
              100_000,
            ),
            scaleDownWindowMs: 1000 * count('--autoscale-cooldown', values['autoscale-cooldown'], 30, 1, 3600),
            intervalMs: 1000,
          },
        };
  const options: StackOptions = {
    root: ROOT,
    autoscale,
    apis: count('--apis', values.apis ?? process.env.STACK_APIS, 3, 1, 20),
    apiPort: count('--api-port', values['api-port'] ?? process.env.STACK_API_PORT, 3001, 1024, 65000),
    gatewayPort: count('--gateway-port', values['gateway-port'] ?? process.env.STACK_GATEWAY_PORT, 8080, 1024, 65535),
    workers: autoscale ? autoscale.bounds.min : count('--workers', workersSpec, 1, 0, 20),
    workerPort: count('--worker-port', values['worker-port'] ?? process.env.STACK_WORKER_PORT, 3101, 1024, 65000),
    replicas: count('--replicas', values.replicas ?? process.env.STACK_REPLICAS, 2, 0, 5),
    pgPort: count('--pg-port', values['pg-port'] ?? process.env.STACK_PG_PORT, 54320, 1024, 65000),
    redisPort: count('--redis-port', values['redis-port'] ?? process.env.STACK_REDIS_PORT, 63790, 1024, 65535),
    synchronous: values.sync ?? ['1', 'true'].includes(process.env.STACK_SYNC ?? ''),
    topology: (values.simple ?? ['1', 'true'].includes(process.env.STACK_SIMPLE ?? '')) ? 'simple' : 'ha',
  };
  await up(options);
}

/** A drill is a client of the running stack: it acts through the control socket and loads the gateway. */
async function drill(args: readonly string[], jobs: string | undefined, json: boolean): Promise<void> {
  if (args.length !== 1) throw new Error(`usage: npm run stack -- drill <${[...DRILLS, 'queue-burst'].join('|')}>`);
  const ctl = async (...a: string[]) => {
    const { ok, output } = await sendControl(SOCKET, { command: a[0]!, args: a.slice(1) });
    if (!ok) throw new Error(output);
    return output;
  };
  if (args[0] === 'queue-burst') {
    const burst = await runQueueBurst({
      ctl,
      // At most what the stack keeps of completed jobs (JOB_KEEP_COMPLETED_COUNT), so every job can be checked.
      jobs: count('--jobs', jobs, 400, 1, 10_000),
      outDir: join(ROOT, 'drills'),
      log: (line) => console.log(`[drill] ${line}`),
    });
    // --json: the result alone on stdout's last line, for scripts and tests.
    console.log(json ? JSON.stringify(burst.result) : burst.report);
    return;
  }
  const result = await runDrill(args[0]!, {
    ctl,
    outDir: join(ROOT, 'drills'),
    log: (line) => console.log(`[drill] ${line}`),
  });
  console.log(result.report);
}

async function up(options: StackOptions): Promise<void> {
  const started = Date.now();
  // Seconds since the start on every line: where start-up time goes is visible without a profiler.
  const log = (line: string) =>
    console.log(`[stack] ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s  ${line}`);
  await ensureBuilt(log);
  const stack = new LocalStack(options);

  let stopping: Promise<void> | undefined;
  const shutdown = (why: string) => {
    stopping ??= (async () => {
      log(`${why}: stopping everything...`);
      await stack.down();
      control?.close();
      log('all processes stopped.');
      process.exit(0);
    })();
    return stopping;
  };
  process.on('SIGINT', () => void shutdown('Ctrl-C'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  let control: Awaited<ReturnType<typeof serveControl>> | undefined;

  try {
    await stack.up(log);
  } catch (err) {
    console.error(`\n[stack] startup failed: ${(err as Error).message}\n`);
    await stack.down();
    process.exit(1);
  }
  // Every process, also the workers the autoscaler starts later; the ones it drains exit on purpose and are not news.
  stack.onExit = (m, code, signal) => {
    if (!stopping)
      log(`${m.name} exited (${signal ?? `code ${code}`}); it stays down until \`npm run stack -- start ${m.name}\``);
  };
  control = await serveControl(SOCKET, (req) => handle(stack, req.command, req.args));

  console.log(`\nzero-to-millions is up in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  console.log(renderTable(await stack.status()));
  const gateway = stack.member('gateway').address;
  console.log(`
  Gateway      ${gateway}   (the entry point; API instances listen privately behind it)
  Swagger UI   ${gateway}/docs
  Live view    ${gateway}/_gateway/ (sign in with the token in ${stack.gatewayAdminTokenFile}; docs/architecture-page.md)
  Queues       ${gateway}/admin/queues (user admin, password ${stack.adminToken}; a new one every run)
  Gateway API  curl -H "authorization: Bearer $(cat ${stack.gatewayAdminTokenFile})" ${gateway}/_gateway/status
  Logs         .stack/logs/<name>.log
  Drills       npm run stack -- status | stop <name> | start <name> | kill <name> | freeze <name> | thaw <name>
               ${stack.options.topology === 'ha' ? 'npm run stack -- switchover [member] | failover <member>   (see docs/availability.md)' : 'npm run stack -- promote <replica> | add-replica   (see docs/database.md)'}
  Ctrl-C stops every process.
`);
}

async function handle(stack: LocalStack, command: string, args: readonly string[]): Promise<string> {
  const name = () => {
    if (!args[0]) throw new Error(`usage: npm run stack -- ${command} <name>`);
    return args[0];
  };
  switch (command) {
    case 'status':
      if (args[0] === '--json') return (await stack.statusRecords()).map((r) => JSON.stringify(r)).join('\n');
      if (args.length) throw new Error('usage: npm run stack -- status [--json]');
      return renderTable(await stack.status());
    case 'stop':
      await stack.member(name()).stop();
      return `${name()} stopped`;
    case 'start':
      await stack.start(name());
      return `${name()} started`;
    case 'kill': {
      const m = stack.member(name());
      await (m.kill ? m.kill() : m.process.kill());
      return `${name()} killed (SIGKILL)`;
    }
    case 'crash': {
      const m = stack.member(name());
      if (!m.crash)
        throw new Error(`${name()} runs no database under a supervisor: crash is for Patroni members; use kill`);
      await m.crash();
      return `${name()}: PostgreSQL killed (SIGKILL); its Patroni is still running`;
    }
    case 'freeze': {
      const m = stack.member(name());
      if (m.freeze) m.freeze();
      else m.process.freeze();
      return `${name()} frozen (SIGSTOP); \`npm run stack -- thaw ${name()}\` resumes it`;
    }
    case 'thaw': {
      const m = stack.member(name());
      if (m.thaw) m.thaw();
      else m.process.thaw();
      return `${name()} resumed (SIGCONT)`;
    }
    case 'switchover': {
      const leader = await stack.ha.switchover(args[0]);
      return `switchover done: ${leader.name} is the leader now`;
    }
    case 'failover': {
      const leader = await stack.ha.failover(name());
      return `failover done: ${leader.name} is the leader now`;
    }
    case 'autoscale': {
      // For the queue-burst drill and for scripts: the bounds and the last decision, as JSON.
      const a = stack.autoscaler;
      if (!a) throw new Error('this stack runs a fixed number of workers: start it with --autoscale-workers MIN..MAX');
      return JSON.stringify({ ...a.bounds, ...a.policy, workers: stack.runningWorkers().length, last: a.last ?? null });
    }
    case 'promote':
      return promoteReplica(stack, name());
    case 'add-replica':
      if (args.length) throw new Error('usage: npm run stack -- add-replica (it takes no arguments)');
      return addReplica(stack);
    default:
      throw new Error(`unknown command "${command}"\n\n${USAGE}`);
  }
}

function count(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${flag} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

main().catch((err: Error) => {
  console.error(`[stack] ${err.message}`);
  process.exit(1);
});
