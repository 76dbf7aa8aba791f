import { execFile } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { ManagedProcess } from '../../tools/stack/managed-process';
import { nodeProgram } from '../../tools/stack/node-programs';
import { findPgBinDir } from '../../tools/stack/pg-binaries';
import { sleep } from '../../tools/stack/ports';
import { findRedisServer } from '../../tools/stack/redis-node';
import type { ServiceUser } from '../../tools/stack/service-user';
import { DOCKER_DIR, REPO_ROOT, serviceEnv, type ComposeFile, type ComposeService } from './compose-file';

const run = promisify(execFile);

/**
 * Runs docker/compose.yml's services as local processes: each with compose's own command, environment and
 * health check. Only what a container network provides is translated: `service:port` addresses become
 * 127.0.0.x and free ports (`addresses`), and each instance gets the hostname a container would have.
 */
export class LocalCompose {
  constructor(
    readonly compose: ComposeFile,
    /** `postgres-primary:5432` → `127.0.0.1:54011`, one entry per service address the file uses. */
    private readonly addresses: Readonly<Record<string, string>>,
    private readonly logDir: string,
  ) {}

  service(name: string): ComposeService {
    const s = this.compose.services[name];
    if (!s) throw new Error(`compose.yml has no service "${name}"`);
    return s;
  }

  /** The service's environment with every `service:port` replaced; fails if one has no local address. */
  env(name: string, overrides: Record<string, string> = {}): Record<string, string> {
    const env = Object.fromEntries(
      Object.entries(serviceEnv(this.compose, name)).map(([k, v]) => [k, this.localize(v)]),
    );
    const all = { ...env, ...overrides };
    const services = Object.keys(this.compose.services).join('|');
    const left = Object.entries(all).filter(([, v]) => new RegExp(`(^|[@/=,])(${services}):\\d+`).test(v));
    if (left.length) throw new Error(`no local address for ${left.map(([k]) => k).join(', ')} of ${name}`);
    return all;
  }

  localize(text: string): string {
    return Object.entries(this.addresses).reduce((t, [from, to]) => t.split(from).join(to), text);
  }

  /** A program of the image (`node dist/...`) as compose runs it, with the command's arguments as written. */
  program(name: string, instance: string, overrides: Record<string, string>): ManagedProcess {
    const [node, script, ...args] = this.service(name).command!;
    if (node !== 'node' || !script) throw new Error(`${name} does not run node`);
    if (args.length) throw new Error(`${name}: extra arguments are not supported here`);
    return nodeProgram({
      name: instance,
      script: script.replace(/^dist\//, ''),
      env: { ...process.env, ...this.env(name, overrides) },
      logFile: join(this.logDir, `${instance}.log`),
    });
  }

  /** The service's healthcheck command, run here: exit 0 is what `service_healthy` waits for. */
  async healthy(
    name: string,
    hostPort: { from: string; to: string },
    env: Record<string, string> = {},
  ): Promise<boolean> {
    const test = this.service(name).healthcheck!.test!;
    const localized = test.map((t) => t.split(hostPort.from).join(hostPort.to));
    const pathEnv = { ...process.env, ...env, PATH: `${findPgBinDir()}:${process.env.PATH}` };
    try {
      if (localized[0] === 'CMD-SHELL')
        await run('sh', ['-c', localized[1]!], { env: pathEnv, cwd: REPO_ROOT, timeout: 5000 });
      else if (localized[0] === 'CMD') {
        const [cmd, ...args] = localized.slice(1);
        await run(cmd === 'node' ? process.execPath : cmd!, args, { env: pathEnv, cwd: REPO_ROOT, timeout: 5000 });
      } else throw new Error(`unsupported healthcheck ${test[0]}`);
      return true;
    } catch {
      return false;
    }
  }

  /** Waits for the healthcheck to pass, as depends_on: service_healthy does. */
  async waitHealthy(
    name: string,
    hostPort: { from: string; to: string },
    proc: ManagedProcess,
    env: Record<string, string> = {},
    timeoutMs = 30_000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // Spawning `node docker/healthcheck.cjs` every poll would steal the CPU the starting programs need:
    // poll its URL in-process, then run the real command once.
    const url = this.service(name)
      .healthcheck!.test!.find((t) => /^https?:\/\//.test(t))
      ?.split(hostPort.from)
      .join(hostPort.to);
    for (;;) {
      const up = url
        ? await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
            (r) => r.ok,
            () => false,
          )
        : true;
      if (up && (await this.healthy(name, hostPort, env))) return;
      if (proc.state === 'exited') throw new Error(`${proc.name} exited:\n${proc.logTail(40)}`);
      if (Date.now() > deadline)
        throw new Error(`${proc.name} not healthy within ${timeoutMs} ms:\n${proc.logTail(40)}`);
      await sleep(100);
    }
  }

  /** redis-server with the service's command line; only where it listens and writes is added. */
  redis(port: number, dir: string): ManagedProcess {
    const [bin, ...args] = this.service('redis').command!;
    if (bin !== 'redis-server') throw new Error('the redis service does not run redis-server');
    mkdirSync(dir, { recursive: true });
    return new ManagedProcess({
      name: 'redis',
      command: findRedisServer(),
      args: [
        ...args,
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--daemonize',
        'no',
        '--logfile',
        '',
      ],
      logFile: join(this.logDir, 'redis.log'),
    });
  }

  /** The primary's init script (mounted into /docker-entrypoint-initdb.d), run against a running primary. */
  async initPrimary(pgPort: number, dataDir: string): Promise<void> {
    const script = this.mountedFile('postgres-primary', /^\/docker-entrypoint-initdb\.d\//);
    const env = {
      ...this.env('postgres-primary'),
      PGDATA: dataDir,
      PGHOST: '127.0.0.1',
      PGPORT: String(pgPort),
      PATH: `${findPgBinDir()}:${process.env.PATH}`,
    };
    await run('bash', [script], { env, timeout: 15_000 });
  }

  /**
   * The replica's entrypoint script with its compose command, as the postgres user (the script's root
   * branch, chown then gosu, is the container's; here the data directory is prepared the same way first).
   */
  replica(name: string, port: number, dataDir: string, user: ServiceUser | undefined): ManagedProcess {
    const s = this.service(name);
    const [shell, entry] = s.entrypoint!;
    if (shell !== 'bash') throw new Error(`${name}: entrypoint is not a bash script`);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (user) chownSync(dataDir, user.uid, user.gid);
    const script = this.mountedFile(name, new RegExp(`^${entry}$`));
    const env: Record<string, string> = {
      ...this.env(name),
      PGDATA: dataDir,
      PATH: `${findPgBinDir()}:${process.env.PATH}`,
    };
    // The primary's address is two variables here, not one host:port.
    const [host, primaryPort] = this.localize(`${env.PRIMARY_HOST}:${env.PRIMARY_PORT}`).split(':');
    Object.assign(env, { PRIMARY_HOST: host, PRIMARY_PORT: primaryPort });
    if (!/^127\./.test(host!)) throw new Error(`no local address for ${name}'s PRIMARY_HOST`);
    return new ManagedProcess({
      name,
      command: 'bash',
      args: [script, ...s.command!, '-c', `port=${port}`, '-c', 'listen_addresses=127.0.0.1'],
      env,
      logFile: join(this.logDir, `${name}.log`),
      user,
    });
  }

  private mountedFile(name: string, target: RegExp): string {
    const mount = this.service(name).volumes?.find((v) => target.test(v.split(':')[1]!));
    if (!mount) throw new Error(`${name} mounts nothing at ${target}`);
    return join(DOCKER_DIR, mount.split(':')[0]!);
  }
}

/** Polls a PostgreSQL URL until a query answers. */
export async function waitForPostgres(url: string, proc: ManagedProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.state === 'exited') throw new Error(`${proc.name} exited:\n${proc.logTail(40)}`);
    try {
      await pgQuery(url, 'SELECT 1');
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`${proc.name} not ready: ${(err as Error).message}\n${proc.logTail(40)}`, { cause: err });
      await sleep(100);
    }
  }
}

export async function pgQuery<T = Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000, query_timeout: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** One Redis command with a short-lived client (ioredis, as the API uses). */
export async function redisCommand(url: string, args: string[]): Promise<unknown> {
  // RESP2 and no ready check: ioredis 6's HELLO 3 and INFO would fail first against a password, hiding the reply under test.
  const client = new Redis(url, {
    connectTimeout: 2000,
    retryStrategy: () => null,
    lazyConnect: true,
    enableReadyCheck: false,
    protocol: 2,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const [command, ...rest] = args;
    return await client.call(command!, ...rest);
  } finally {
    client.disconnect();
  }
}
