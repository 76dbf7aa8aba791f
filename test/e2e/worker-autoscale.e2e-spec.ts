import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { QueueBurstResult } from '../../tools/stack/drills/queue-burst';
import { REPO_ROOT } from '../../tools/stack/node-programs';
import { type StackCli, startStackCli } from '../support/stack-cli';

const run = promisify(execFile);
const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const CLI = join(REPO_ROOT, 'tools', 'stack', 'cli.ts');
const COOLDOWN_S = 5;

/**
 * `npm run stack -- --autoscale-workers 1..4` as a user runs it, and `drill queue-burst` against it: worker
 * processes follow the queue's backlog up and, after the cooldown, back down by graceful drain, and every
 * render job runs exactly once across the scale-down.
 */
describe('worker processes that follow the queue (npm run stack -- --autoscale-workers)', () => {
  let stack: StackCli | undefined;
  afterAll(() => stack?.stop(), 90_000);

  it.each([
    ['4..1', 'MIN must not exceed MAX'],
    ['0..0', 'MAX must be at least 1'],
    ['two..four', 'two whole numbers'],
  ])('refuses --autoscale-workers %s with a clear error, and starts nothing', async (spec, why) => {
    const badDir = mkdtempSync(join(tmpdir(), 'z2m-autoscale-bad-'));
    try {
      const failed = await run(TSX, [CLI, '--autoscale-workers', spec], {
        env: { ...process.env, STACK_DIR: badDir },
        cwd: REPO_ROOT,
        timeout: 60_000,
      }).then(
        () => undefined,
        (err: { code: number; stderr: string }) => err,
      );
      expect(failed?.code).toBe(1);
      expect(failed?.stderr).toContain(`--autoscale-workers`);
      expect(failed?.stderr).toContain(why);
      // No data directory, log or pid file: nothing was started.
      expect(readdirSync(badDir)).toEqual([]);
    } finally {
      rmSync(badDir, { recursive: true, force: true });
    }
  });

  it('scales 1..4 workers with a burst of 400 render jobs, runs each once, and drains back to 1', async () => {
    stack = await startStackCli({
      replicas: 0,
      apis: 1,
      workerPorts: 4,
      args: ['--autoscale-workers', '1..4', '--autoscale-target', '10', '--autoscale-cooldown', String(COOLDOWN_S)],
      // Two job slots per worker: the burst outlasts one worker long enough to call for more.
      env: { WORKER_CONCURRENCY: '2' },
    });
    const output = () => stack!.output();
    expect(output()).toContain('autoscaling workers 1..4: 10 queued jobs per worker');

    const drill = await stack.ctl('drill', 'queue-burst', '--jobs', '400', '--json');
    const result = JSON.parse(drill.trim().split('\n').at(-1)!) as QueueBurstResult;
    console.log(
      output()
        .split('\n')
        .filter((l) => l.includes('autoscal'))
        .join('\n'),
    );

    expect(result).toMatchObject({
      jobs: 400,
      autoscale: { min: 1, max: 4 },
      workersAtStart: 1,
      rendered: 400,
      notRendered: 0,
      jobsRunMoreThanOnce: 0,
      workersAtEnd: 1,
    });
    expect(result.peakWorkers).toBeGreaterThan(1);
    expect(result.peakWorkers).toBeLessThanOrEqual(4);
    expect(result.drainedAfterMs).not.toBeNull();
    expect(result.backToMinAfterMs).not.toBeNull();
    // A drain comes at least the cooldown after the scale-up before it: that scale-up's reading holds the window.
    const changes = [...output().matchAll(/\[stack\]\s+([\d.]+) s\s+autoscale: (\d+) -> (\d+)/g)].map((m) => ({
      at: Number(m[1]),
      from: Number(m[2]),
      to: Number(m[3]),
    }));
    changes.forEach((c, i) => {
      const previous = changes[i - 1];
      if (c.to < c.from && previous && previous.to > previous.from)
        expect(c.at - previous.at).toBeGreaterThanOrEqual(COOLDOWN_S - 0.2);
    });
    expect(changes.some((c) => c.to < c.from)).toBe(true);
    expect(existsSync(result.svgFile)).toBe(true);
    expect(readFileSync(result.svgFile, 'utf8')).toContain('worker processes');
    // The stack said what it did, and drained (SIGTERM) rather than killed.
    expect(output()).toMatch(
      /autoscale: 1 -> [234] worker\(s\) \(backlog \d+ > 1 x 10 per worker\): starting worker-2/,
    );
    expect(output()).toMatch(/autoscale: [234] -> [123] worker\(s\) .*: draining worker-[234]/);
    console.log(JSON.stringify(result.seconds));
    const autoscale = JSON.parse((await stack.ctl('autoscale')).trim()) as Record<string, unknown>;
    expect(autoscale).toMatchObject({ min: 1, max: 4, targetPerWorker: 10, workers: 1 });
  }, 300_000);
});
