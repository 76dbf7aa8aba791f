import { backlogFromMetrics, desiredWorkers, parseWorkerBounds, WorkerAutoscaler } from './worker-autoscaler';

describe('parseWorkerBounds', () => {
  it('takes MIN..MAX', () => {
    expect(parseWorkerBounds('1..4')).toEqual({ min: 1, max: 4 });
    expect(parseWorkerBounds(' 0..3 ')).toEqual({ min: 0, max: 3 });
    expect(parseWorkerBounds('2..2')).toEqual({ min: 2, max: 2 });
  });

  it.each([
    ['4..1', 'MIN must not exceed MAX'],
    ['0..0', 'MAX must be at least 1'],
    ['a..b', 'two whole numbers'],
    ['1-4', 'two whole numbers'],
    ['1..', 'two whole numbers'],
    ['-1..4', 'two whole numbers'],
    ['1.5..4', 'two whole numbers'],
    ['1..17', 'MAX must be at most 16'],
  ])('refuses %s with a message that says why', (spec, why) => {
    expect(() => parseWorkerBounds(spec)).toThrow(why);
  });
});

describe('desiredWorkers (the HPA rule for an AverageValue target)', () => {
  const bounds = { min: 1, max: 4 };
  it('is ceil(backlog / target), clamped to the bounds', () => {
    expect(desiredWorkers(0, 1, 50, bounds)).toBe(1);
    expect(desiredWorkers(120, 1, 50, bounds)).toBe(3);
    expect(desiredWorkers(400, 1, 50, bounds)).toBe(4);
    expect(desiredWorkers(0, 0, 50, { min: 0, max: 4 })).toBe(0);
    expect(desiredWorkers(1, 0, 50, { min: 0, max: 4 })).toBe(1);
  });

  it('leaves the count alone within a 10 % tolerance', () => {
    expect(desiredWorkers(105, 2, 50, bounds)).toBe(2);
    expect(desiredWorkers(111, 2, 50, bounds)).toBe(3);
  });
});

describe('backlogFromMetrics', () => {
  it('adds waiting, prioritized and active jobs of the queue', () => {
    const text = [
      '# TYPE queue_jobs gauge',
      'queue_jobs{queue="render",state="waiting"} 30',
      'queue_jobs{queue="render",state="prioritized"} 2',
      'queue_jobs{queue="render",state="active"} 8',
      'queue_jobs{queue="render",state="completed"} 900',
      'queue_jobs{queue="other",state="waiting"} 99',
    ].join('\n');
    expect(backlogFromMetrics(text)).toBe(40);
    expect(backlogFromMetrics('http_requests_total 1')).toBeUndefined();
  });
});

describe('WorkerAutoscaler', () => {
  function scaler(backlogs: Array<number | undefined>, current = 1) {
    const changes: number[] = [];
    let workers = current;
    const a = new WorkerAutoscaler(
      {
        readBacklog: async () => backlogs.shift(),
        current: () => workers,
        scaleTo: async (n) => {
          changes.push(n);
          workers = n;
        },
        log: () => undefined,
      },
      { min: 1, max: 4 },
      { targetPerWorker: 50, scaleDownWindowMs: 10_000, intervalMs: 1000 },
    );
    return { a, changes };
  }

  it('scales up at once, and down only after the window has seen nothing higher', async () => {
    const { a, changes } = scaler([400, 100, 0, 0, 0]);
    const tick = async (at: number) => {
      await a.tick(at);
      await a.idle();
    };
    await tick(0);
    expect(changes).toEqual([4]);
    await tick(1000); // 100 waiting: 2 would do, but 4 was recommended within the window
    await tick(5000);
    expect(changes).toEqual([4]);
    await tick(10_500); // the 4 has left the window; the 2 at 1 s has not
    expect(changes).toEqual([4, 2]);
    await tick(11_500);
    expect(changes).toEqual([4, 2, 1]);
  });

  it('keeps reading while a change is under way: those readings count, but only the finished change acts', async () => {
    let finish = () => undefined as void;
    const changes: number[] = [];
    let workers = 1;
    const backlogs = [400, 400, 100, 0, 0];
    const a = new WorkerAutoscaler(
      {
        readBacklog: async () => backlogs.shift(),
        current: () => workers,
        scaleTo: (n) => {
          changes.push(n);
          return new Promise<void>((resolve) => (finish = () => ((workers = n), resolve())));
        },
        log: () => undefined,
      },
      { min: 1, max: 4 },
      { targetPerWorker: 50, scaleDownWindowMs: 10_000, intervalMs: 1000 },
    );
    await a.tick(0);
    await a.tick(2000); // still starting the workers: no second change, but the reading (4) is kept
    expect(changes).toEqual([4]);
    finish();
    await a.idle();
    await a.tick(3000);
    await a.tick(11_000); // the 4 read at 2 s is still within the window: no drain yet
    expect(changes).toEqual([4]);
    await a.tick(12_500); // now the highest in the window is the 2 read at 3 s
    expect(changes).toEqual([4, 2]);
  });

  it('holds when no process reports the backlog', async () => {
    const { a, changes } = scaler([undefined, undefined], 3);
    await a.tick(0);
    await a.tick(20_000);
    expect(changes).toEqual([]);
  });
});
