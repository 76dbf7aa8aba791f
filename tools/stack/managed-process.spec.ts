import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess } from './managed-process';

describe('ManagedProcess.waitUntil', () => {
  let dir: string;
  const started: ManagedProcess[] = [];
  const node = (name: string, script: string) => {
    const proc = new ManagedProcess({
      name,
      command: process.execPath,
      args: ['-e', script],
      logFile: join(dir, `${name}.log`),
    });
    started.push(proc);
    proc.start();
    return proc;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'z2m-managed-process-'));
  });
  afterEach(async () => {
    for (const p of started.splice(0)) await p.stop('SIGKILL', 1000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('resolves once the check holds, after polling it', async () => {
    const proc = node('sleeper', 'setTimeout(() => {}, 10_000)');
    let polls = 0;
    await proc.waitUntil(async () => ++polls === 3, { timeoutMs: 5000, intervalMs: 10, notReady: 'not ready' });
    expect(polls).toBe(3);
  });

  it('fails at once with the log tail when the process exits during startup', async () => {
    const proc = node('crasher', 'console.error("bad config line 7"); process.exit(1)');
    const startedAt = Date.now();
    await expect(
      proc.waitUntil(async () => false, { timeoutMs: 10_000, intervalMs: 20, notReady: 'not ready' }),
    ).rejects.toThrow(/^crasher exited during startup:\n.*bad config line 7/s);
    expect(Date.now() - startedAt).toBeLessThan(5000);
  });

  it('fails at the deadline, naming the process and what it was waiting for', async () => {
    const proc = node('silent', 'setTimeout(() => {}, 10_000)');
    await expect(
      proc.waitUntil(async () => false, { timeoutMs: 100, intervalMs: 20, notReady: 'not healthy' }),
    ).rejects.toThrow('silent not healthy after 100 ms');
    expect(proc.state).toBe('running');
  });
});
