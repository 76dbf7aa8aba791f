import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sendControl, serveControl } from './control';
import { LocalStack, type StackOptions } from './local-stack';
import { ensureBuilt, REPO_ROOT } from './node-programs';
import { addReplica, promoteReplica } from './replication-drills';
import { renderTable } from './table';

const USAGE = `Usage: npm run stack [-- <command>] [options]

Commands:
  up (default)        start the whole stack in the foreground; Ctrl-C stops it all
  status              name, pid, address, state and health of every process
  stop <name>         stop one process gracefully (it is not restarted by itself)
  start <name>        start a stopped process again
  kill <name>         kill -9, the crash drill
  freeze <name>       SIGSTOP: alive but unresponsive, the "hung, not dead" drill
  thaw <name>         SIGCONT after a freeze
  promote <replica>   promote a replica to primary and point the other replicas at it (failover drill)
  add-replica         clone a new replica from the current primary; running API instances start using it

Options for up (or env):
  --apis N            API instances (STACK_APIS, default 3)
  --api-port P        first API port (STACK_API_PORT, default 3001); private, behind the gateway
  --gateway-port P    the gateway, the stack's public entry (STACK_GATEWAY_PORT, default 8080)
  --workers N         queue workers (STACK_WORKERS, default 1)
  --worker-port P     first worker health/metrics port (STACK_WORKER_PORT, default 3101)
  --replicas N        PostgreSQL streaming replicas (STACK_REPLICAS, default 2)
  --pg-port P         primary port; replicas take the next ones (STACK_PG_PORT, default 54320)
  --redis-port P      Redis port (STACK_REDIS_PORT, default 63790)
  --sync              synchronous replication: ANY 1 replica must confirm each commit (STACK_SYNC=1)

Names: gateway, primary, replica-1.., redis, api-1.., worker-1..`;

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
      replicas: { type: 'string' },
      'pg-port': { type: 'string' },
      'redis-port': { type: 'string' },
      sync: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command = 'up', ...args] = positionals;
  if (values.help || command === 'help') return void console.log(USAGE);
  if (command !== 'up') {
    const { ok, output } = await sendControl(SOCKET, { command, args });
    console.log(output);
    if (!ok) process.exitCode = 1;
    return;
  }
  const options: StackOptions = {
    root: ROOT,
    apis: count('--apis', values.apis ?? process.env.STACK_APIS, 3, 1, 20),
    apiPort: count('--api-port', values['api-port'] ?? process.env.STACK_API_PORT, 3001, 1024, 65000),
    gatewayPort: count('--gateway-port', values['gateway-port'] ?? process.env.STACK_GATEWAY_PORT, 8080, 1024, 65535),
    workers: count('--workers', values.workers ?? process.env.STACK_WORKERS, 1, 0, 20),
    workerPort: count('--worker-port', values['worker-port'] ?? process.env.STACK_WORKER_PORT, 3101, 1024, 65000),
    replicas: count('--replicas', values.replicas ?? process.env.STACK_REPLICAS, 2, 0, 5),
    pgPort: count('--pg-port', values['pg-port'] ?? process.env.STACK_PG_PORT, 54320, 1024, 65000),
    redisPort: count('--redis-port', values['redis-port'] ?? process.env.STACK_REDIS_PORT, 63790, 1024, 65535),
    synchronous: values.sync ?? ['1', 'true'].includes(process.env.STACK_SYNC ?? ''),
  };
  await up(options);
}

async function up(options: StackOptions): Promise<void> {
  const started = Date.now();
  const log = (line: string) => console.log(`[stack] ${line}`);
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
  for (const m of stack.members.values()) {
    m.process.onExit((code, signal) => {
      if (!stopping) log(`${m.name} exited (${signal ?? `code ${code}`}); it stays down until \`npm run stack -- start ${m.name}\``);
    });
  }
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
               npm run stack -- promote <replica> | add-replica   (see docs/database.md)
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
      return renderTable(await stack.status());
    case 'stop':
      await stack.member(name()).stop();
      return `${name()} stopped`;
    case 'start':
      await stack.start(name());
      return `${name()} started`;
    case 'kill':
      await stack.member(name()).process.kill();
      return `${name()} killed (SIGKILL)`;
    case 'freeze':
      stack.member(name()).process.freeze();
      return `${name()} frozen (SIGSTOP); \`npm run stack -- thaw ${name()}\` resumes it`;
    case 'thaw':
      stack.member(name()).process.thaw();
      return `${name()} resumed (SIGCONT)`;
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
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

main().catch((err: Error) => {
  console.error(`[stack] ${err.message}`);
  process.exit(1);
});
