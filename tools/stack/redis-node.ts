import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { ManagedProcess } from './managed-process';

export const REDIS_INSTALL_HINT =
  'redis-server was not found. Install it, then run again:\n' +
  '  Debian/Ubuntu:  sudo apt-get install -y redis-server\n' +
  '  macOS:          brew install redis\n' +
  'Or set REDIS_SERVER=/path/to/redis-server.';

export interface RedisNodeOptions {
  readonly name?: string;
  readonly port: number;
  readonly dataDir: string;
  readonly logFile: string;
}

/** Our own redis-server on 127.0.0.1, with the settings BullMQ's production notes ask for. */
export class RedisNode {
  readonly process: ManagedProcess;

  constructor(readonly options: RedisNodeOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    this.process = new ManagedProcess({
      name: options.name ?? 'redis',
      command: findRedisServer(),
      args: [
        '--port',
        String(options.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        options.dataDir,
        // Queue state must survive a restart: append-only file, flushed every second.
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--save',
        '',
        // Evicting a BullMQ key silently loses jobs; fail writes instead.
        '--maxmemory-policy',
        'noeviction',
        '--daemonize',
        'no',
        '--logfile',
        '',
      ],
      logFile: options.logFile,
    });
  }

  get port(): number {
    return this.options.port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(timeoutMs = 15_000): Promise<void> {
    this.process.start();
    await this.process.waitUntil(() => this.ping(), { timeoutMs, intervalMs: 50, notReady: 'not ready' });
  }

  stop(): Promise<void> {
    return this.process.stop('SIGTERM', 10_000);
  }

  /** PING over a raw socket, so the runner needs no Redis client of its own. */
  ping(timeoutMs = 1000): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: this.port });
      const done = (ok: boolean) => (socket.destroy(), resolve(ok));
      socket.setTimeout(timeoutMs, () => done(false));
      socket.once('error', () => done(false));
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
    });
  }
}

export function findRedisServer(): string {
  const candidates = [process.env.REDIS_SERVER, 'redis-server'].filter((c): c is string => !!c);
  for (const c of candidates) {
    try {
      execFileSync(c, ['--version'], { stdio: 'ignore' });
      return c;
    } catch {
      // next
    }
  }
  throw new Error(REDIS_INSTALL_HINT);
}
