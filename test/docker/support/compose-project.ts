import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { COMPOSE_FILE, REPO_ROOT, requiredVariables } from '../../support/compose-file';

const run = promisify(execFile);

export interface DockerTools {
  /** The docker CLI. Debian's /usr/bin/docker first: it matches Debian's engine (a newer client may lack buildx). */
  readonly docker: string;
  /** `docker-compose` (1.29, Debian's) or `docker compose` (v2), as argv. */
  readonly compose: readonly string[];
}

/** Only what the tools need: a variable in the test's own environment (SESSION_SECRET, say) would win over the
 * env file in compose's interpolation. */
function toolEnv(): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'DOCKER_HOST', 'DOCKER_CONFIG', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY'];
  return Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
}

const works = (argv: readonly string[]): boolean => {
  try {
    execFileSync(argv[0]!, argv.slice(1), { stdio: 'ignore', timeout: 15_000, env: toolEnv() });
    return true;
  } catch {
    return false;
  }
};

/** The Docker engine and Compose this machine can reach, or why not (then the suite skips). */
export function findDockerTools(): DockerTools | { readonly skip: string } {
  const docker = process.env.DOCKER ?? (existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker');
  const where = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (!works([docker, 'version', '--format', '{{.Server.Version}}']))
    return { skip: `no Docker engine answers at ${where} (tools/setup/docker-engine.sh starts one)` };
  for (const compose of [['docker-compose'], [docker, 'compose']]) {
    if (works([...compose, 'version'])) return { docker, compose };
  }
  return { skip: 'neither docker-compose nor `docker compose` is installed' };
}

export interface ContainerState {
  readonly id: string;
  readonly name: string;
  readonly service: string;
  readonly running: boolean;
}

/**
 * docker/compose.yml as a private project: its own name, its own env file with fresh secrets, a free published
 * port and its own backend subnet, so that it never touches a user's own deployment of the same file.
 */
export class ComposeProject {
  readonly name = `z2m-test-${randomBytes(4).toString('hex')}`;
  readonly secrets: Readonly<Record<string, string>>;
  /** Every variable of the env file: the secrets, the port, the network and the image tags. */
  readonly env: Readonly<Record<string, string>>;
  private readonly dir = mkdtempSync(join(tmpdir(), 'z2m-docker-'));
  private readonly envFile = join(this.dir, 'compose.env');

  constructor(
    readonly tools: DockerTools,
    readonly gatewayPort: number,
    settings: Readonly<Record<string, string>> = {},
  ) {
    this.secrets = Object.fromEntries(requiredVariables().map((v) => [v, randomBytes(24).toString('hex')]));
    const env = (this.env = {
      ...this.secrets,
      GATEWAY_PUBLISHED_PORT: String(gatewayPort),
      // A /24 of its own: a network whose subnet overlaps an existing one is refused by the engine.
      BACKEND_NET: `10.231.${1 + (randomBytes(1)[0]! % 254)}`,
      // Images of our own tags: the user's zero-to-millions:local stays as it was.
      APP_IMAGE: 'zero-to-millions:test',
      PATRONI_IMAGE: 'zero-to-millions-patroni:test',
      ...settings,
    });
    writeFileSync(
      this.envFile,
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n',
      { mode: 0o600 },
    );
  }

  /** The fixed address compose.yml gives a Redis node (redis-1: .11, redis-2: .12 of the backend network). */
  redisAddress(service: 'redis-1' | 'redis-2'): string {
    return `${this.env.BACKEND_NET}.${service === 'redis-1' ? 11 : 12}`;
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.gatewayPort}`;
  }

  /** `docker-compose --env-file … -p … -f docker/compose.yml <args>`; resolves to stdout, rejects with stderr. */
  async compose(args: readonly string[], timeoutMs = 600_000): Promise<string> {
    const [bin, ...pre] = this.tools.compose;
    const argv = [...pre, '--env-file', this.envFile, '-p', this.name, '-f', COMPOSE_FILE, ...args];
    try {
      const { stdout } = await run(bin!, argv, {
        cwd: REPO_ROOT,
        env: toolEnv(),
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(
        `${this.tools.compose.join(' ')} ${args.join(' ')} failed: ${e.stderr?.slice(-4000) ?? e.message}`,
        { cause: err },
      );
    }
  }

  async docker(args: readonly string[], timeoutMs = 60_000): Promise<string> {
    const { stdout } = await run(this.tools.docker, args, {
      env: toolEnv(),
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  }

  /** Every container of the project, the stopped ones included. */
  async containers(): Promise<ContainerState[]> {
    const out = await this.docker([
      'ps',
      '-a',
      '--filter',
      `label=com.docker.compose.project=${this.name}`,
      '--format',
      '{{.ID}}\t{{.Names}}\t{{.Label "com.docker.compose.service"}}\t{{.State}}',
    ]);
    return out
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [id, name, service, state] = line.split('\t');
        return { id: id!, name: name!, service: service!, running: state === 'running' };
      });
  }

  /** The one container of a service that is not scaled (pg-1, etcd-2, ...). */
  async container(service: string): Promise<string> {
    const found = (await this.containers()).filter((c) => c.service === service);
    if (found.length !== 1) throw new Error(`expected one container of ${service}, found ${found.length}`);
    return found[0]!.id;
  }

  /** Networks and volumes still labelled with the project (after `down -v`: none). */
  async leftovers(): Promise<string[]> {
    const label = `label=com.docker.compose.project=${this.name}`;
    const [containers, networks, volumes] = await Promise.all([
      this.docker(['ps', '-aq', '--filter', label]),
      this.docker(['network', 'ls', '-q', '--filter', label]),
      this.docker(['volume', 'ls', '-q', '--filter', label]),
    ]);
    return [
      ...containers.split('\n').map((id) => `container ${id}`),
      ...networks.split('\n').map((id) => `network ${id}`),
      ...volumes.split('\n').map((id) => `volume ${id}`),
    ].filter((s) => !/ $/.test(s));
  }

  /** `down -v`, and the env file (it holds the secrets) removed. */
  async destroy(): Promise<void> {
    try {
      await this.compose(['down', '-v', '--remove-orphans', '--timeout', '20'], 300_000);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** Members of the Patroni cluster as `patronictl list` sees them, asked inside a running member's container. */
export interface PatroniMemberState {
  readonly Member: string;
  readonly Role: string;
  readonly State: string;
  readonly TL?: number;
}

export async function patroniMembers(project: ComposeProject, via: string): Promise<PatroniMemberState[]> {
  const out = await project.docker(
    ['exec', via, 'patronictl', '-c', '/etc/patroni/patroni.yml', 'list', '--format', 'json'],
    20_000,
  );
  return JSON.parse(out) as PatroniMemberState[];
}
