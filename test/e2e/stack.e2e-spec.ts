import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../tools/stack/node-programs';
import { canBind, freePort, sleep } from '../../tools/stack/ports';
import { PASSWORD, uniqueEmail } from '../support/accounts';
import { eventually } from '../support/eventually';
import { HttpClient } from '../support/http-client';

const run = promisify(execFile);
const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const CLI = join(REPO_ROOT, 'tools', 'stack', 'cli.ts');

/** Two consecutive free ports, so `--pg-port P` (replica on P+1) and `--api-port A` (A, A+1) fit. */
async function freePair(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (await canBind(p + 1)) return p;
  }
}

describe('npm run stack (the local stack runner, as a user runs it)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'z2m-stack-'));
  const env = { ...process.env, STACK_DIR: dir };
  let stack: ChildProcess;
  let output = '';
  let ports: { pg: number; api: number; redis: number; worker: number; gateway: number };

  const ctl = async (...args: string[]) => (await run(TSX, [CLI, ...args], { env, cwd: REPO_ROOT })).stdout;
  const statusRow = async (name: string) =>
    (await ctl('status')).split('\n').find((l) => l.trim().startsWith(`${name} `)) ?? '';
  const pidOf = (row: string) => Number(row.trim().split(/\s+/)[1]);

  beforeAll(async () => {
    ports = {
      pg: await freePair(),
      api: await freePair(),
      redis: await freePort(),
      worker: await freePort(),
      gateway: await freePort(),
    };
    const args = [
      CLI,
      // The simple topology: the HA one (Patroni, etcd) has its own suite, ha-failover.e2e-spec.ts.
      ...['--simple', '--apis', '2', '--replicas', '1', '--pg-port', `${ports.pg}`, '--api-port', `${ports.api}`],
      ...['--redis-port', `${ports.redis}`, '--worker-port', `${ports.worker}`, '--gateway-port', `${ports.gateway}`],
    ];
    stack = spawn(TSX, args, { env, cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    stack.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    stack.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 90_000;
    while (!output.includes('Ctrl-C stops every process')) {
      if (stack.exitCode !== null) throw new Error(`stack exited early:\n${output}`);
      if (Date.now() > deadline) throw new Error(`stack not up after 90 s:\n${output}`);
      await sleep(200);
    }
  }, 120_000);

  afterAll(async () => {
    if (stack?.exitCode === null) {
      stack.kill('SIGTERM');
      await new Promise((r) => stack.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a table of every process with its address and health', () => {
    for (const [name, health] of [
      ['primary', 'up (primary)'],
      ['replica-1', 'up (replica)'],
      ['redis', 'up'],
      ['api-1', 'ok'],
      ['api-2', 'ok'],
      ['worker-1', 'ok'],
      ['gateway', 'ok'],
    ]) {
      expect(output).toMatch(
        new RegExp(`\\n\\s+${name}\\s+\\d+\\s+\\S+\\s+running\\s+${health!.replace(/[()]/g, '\\$&')}\\n`),
      );
    }
    expect(output).toContain(`http://127.0.0.1:${ports.api}`);
    expect(output).toContain(`127.0.0.1:${ports.pg}`);
    // The gateway is the entry: first row of the table, and the banner's Swagger link goes through it.
    expect(output).toMatch(/NAME\s+PID\s+ADDRESS\s+STATE\s+HEALTH\n\s+gateway\s/);
    expect(output).toContain(`Swagger UI   http://127.0.0.1:${ports.gateway}/docs`);
  });

  it('status --json prints one object per process, with kind and role, for scripts', async () => {
    const records = (await ctl('status', '--json'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const byName = new Map(records.map((r) => [r.name, r]));
    expect([...byName.keys()].sort()).toEqual(
      ['api-1', 'api-2', 'gateway', 'primary', 'redis', 'replica-1', 'worker-1'].sort(),
    );
    expect(byName.get('primary')).toMatchObject({ kind: 'postgres', role: 'primary', state: 'running' });
    expect(byName.get('replica-1')).toMatchObject({ kind: 'postgres', role: 'replica', health: 'up (replica)' });
    expect(byName.get('api-1')).toMatchObject({
      kind: 'api',
      role: null,
      address: `http://127.0.0.1:${ports.api}`,
      health: 'ok',
    });
    expect(byName.get('gateway')).toMatchObject({ kind: 'gateway', pid: expect.any(Number) });
    await expect(ctl('status', 'extra')).rejects.toMatchObject({
      stdout: expect.stringContaining('usage: npm run stack -- status [--json]'),
    });
  });

  it('balances through the gateway over every API instance', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++)
      seen.add((await fetch(`http://127.0.0.1:${ports.gateway}/health/live`)).headers.get('x-served-by')!);
    expect([...seen].sort()).toEqual(['api-1', 'api-2']);
  });

  it('serves signup, login, create and read on every instance', async () => {
    const user = new HttpClient(`http://127.0.0.1:${ports.api}`);
    const email = uniqueEmail();
    expect((await user.post('/auth/signup', { email, password: PASSWORD, name: 'Stack' })).status).toBe(201);
    expect((await user.post('/auth/login', { email, password: PASSWORD })).status).toBe(200);
    const created = await user.post('/articles', { title: 'From the stack', body: 'hello' });
    expect(created.status).toBe(201);
    user.baseUrl = `http://127.0.0.1:${ports.api + 1}`;
    const read = await user.get(`/articles/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('x-served-by')).toBe('api-2');
    // The stack's worker renders it.
    await eventually(
      () => user.get(`/articles/${created.body.id}`),
      (r) => r.body.render.status === 'done',
    );
  });

  it('stops a process on request, leaves it down, and starts it again', async () => {
    expect(await ctl('stop', 'api-2')).toContain('api-2 stopped');
    expect(await statusRow('api-2')).toMatch(/exited \(code 0\)\s+down$/);
    await sleep(500);
    expect(await statusRow('api-2')).toMatch(/exited/);
    expect(await ctl('start', 'api-2')).toContain('api-2 started');
    expect(await statusRow('api-2')).toMatch(/running\s+ok$/);

    expect(await ctl('stop', 'gateway')).toContain('gateway stopped');
    expect(await statusRow('gateway')).toMatch(/exited \(code 0\)\s+down$/);
    expect(await ctl('start', 'gateway')).toContain('gateway started');
    expect(await statusRow('gateway')).toMatch(/running\s+ok$/);
  });

  it('runs the kill and freeze drills', async () => {
    await ctl('kill', 'replica-1');
    expect(await statusRow('replica-1')).toMatch(/exited \(SIGKILL\)\s+down$/);
    expect(output).toMatch(/replica-1 exited \(SIGKILL\); it stays down until/);
    await ctl('freeze', 'redis');
    expect(await statusRow('redis')).toMatch(/frozen\s+frozen$/);
    await ctl('thaw', 'redis');
    expect(await statusRow('redis')).toMatch(/running\s+up$/);
  });

  it('answers an unknown name or command with an error and a non-zero exit', async () => {
    await expect(ctl('stop', 'api-9')).rejects.toMatchObject({
      stdout: expect.stringContaining('no process named "api-9"'),
    });
    await expect(ctl('explode')).rejects.toMatchObject({ stdout: expect.stringContaining('unknown command') });
    // The HA commands say which topology they need; a drill names the drills it knows.
    await expect(ctl('switchover')).rejects.toMatchObject({ stdout: expect.stringContaining('simple topology') });
    await expect(ctl('drill', 'explode')).rejects.toMatchObject({
      stderr: expect.stringContaining('unknown drill "explode"; drills: primary-kill'),
    });
    await expect(ctl('drill')).rejects.toMatchObject({
      stderr: expect.stringContaining('usage: npm run stack -- drill'),
    });
    // crash is kill -9 of a postmaster under Patroni: --simple has none, and nothing is killed by the attempt.
    await expect(ctl('crash', 'primary')).rejects.toMatchObject({
      stdout: expect.stringContaining('crash is for Patroni members; use kill'),
    });
    await expect(ctl('crash')).rejects.toMatchObject({
      stdout: expect.stringContaining('usage: npm run stack -- crash'),
    });
    expect(await statusRow('primary')).toMatch(/running\s+up \(primary\)$/);
  });

  it('rejects a bad --workers value before starting anything', async () => {
    await expect(run(TSX, [CLI, '--workers', 'lots'], { env, cwd: REPO_ROOT })).rejects.toMatchObject({
      stderr: expect.stringContaining('--workers must be an integer from 0 to 20, got "lots"'),
    });
  });

  it('stops every process it started on SIGTERM', async () => {
    const rows = (await ctl('status')).split('\n').slice(1);
    const pids = rows.map(pidOf).filter((p) => Number.isInteger(p) && p > 0);
    expect(pids.length).toBeGreaterThanOrEqual(4);
    stack.kill('SIGTERM');
    const code = await new Promise((r) => stack.once('exit', r));
    expect(code).toBe(0);
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
  });
});
