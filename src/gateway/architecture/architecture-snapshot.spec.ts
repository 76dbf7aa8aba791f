import {
  apiBox,
  combineHealth,
  type DatabaseBox,
  databaseBoxes,
  queueBox,
  redisBox,
  workerBox,
  type WorkerBox,
} from './architecture-snapshot';
import { parsePrometheusText } from './prometheus-text';
import type { CheckDetail, TargetReading } from './target-scraper';

const up = { status: 'up' };
const node = (role: string, state: string, extra: Record<string, unknown> = {}): CheckDetail => ({
  role,
  state,
  lagSeconds: role === 'replica' ? 0.2 : null,
  lagBytes: role === 'replica' ? 128 : null,
  timeline: 1,
  status: state === 'healthy' ? 'up' : 'degraded',
  ...extra,
});
const reading = (
  details: Record<string, CheckDetail>,
  status = 'ok',
  httpStatus = 200,
  metrics = '',
): TargetReading => ({
  at: 0,
  readiness: { httpStatus, status, details },
  samples: parsePrometheusText(metrics),
});
const unreachable: TargetReading = { at: 0, error: 'connection refused', samples: [] };

describe('combineHealth', () => {
  it('agrees when all agree, says degraded when they differ, ignores unknown votes', () => {
    expect(combineHealth(['up', 'up'])).toBe('up');
    expect(combineHealth(['down', 'down', 'unknown'])).toBe('down');
    expect(combineHealth(['up', 'down'])).toBe('degraded');
    expect(combineHealth(['unknown'])).toBe('unknown');
    expect(combineHealth([])).toBe('unknown');
  });
});

describe('apiBox', () => {
  const facts = {
    url: 'http://127.0.0.1:3002',
    name: 'api-2',
    inFlight: 3,
    rps: 12.5,
    proxiedRps: 12,
    cacheHitRatio: 0.5,
  };

  it("follows the gateway's rotation verdict first", () => {
    const box = apiBox({ ...facts, rotation: 'down', lastCheckDetail: 'ECONNREFUSED', reading: reading({}) });
    expect(box).toMatchObject({
      id: facts.url,
      name: 'api-2',
      health: 'down',
      detail: 'out of rotation: ECONNREFUSED',
      rps: null,
      cacheHitRatio: null,
    });
    expect(apiBox({ ...facts, rotation: 'draining', reading: reading({}, 'draining', 503) }).health).toBe('degraded');
    expect(apiBox({ ...facts, rotation: 'draining', reading: unreachable })).toMatchObject({
      health: 'down',
      detail: 'out of rotation: drained, then connection refused',
    });
    expect(apiBox({ ...facts, rotation: 'unknown' }).health).toBe('unknown');
  });

  it('is amber while in rotation but not answering, or degraded by a dependency', () => {
    expect(apiBox({ ...facts, rotation: 'up', reading: unreachable })).toMatchObject({
      health: 'degraded',
      detail: 'in rotation, but not answering: connection refused',
    });
    const degraded = reading(
      { primary: up, 'db:replica-1': node('replica', 'down'), redis: up, queue: { status: 'degraded' } },
      'degraded',
    );
    expect(apiBox({ ...facts, rotation: 'up', reading: degraded })).toMatchObject({
      health: 'degraded',
      detail: 'degraded: db:replica-1, queue',
    });
  });

  it('says read-only when the instance has no primary, and names a Redis outage, while it stays in rotation', () => {
    const readOnly = reading(
      { primary: { status: 'degraded', impact: 'read-only' }, redis: { status: 'degraded' }, eventLoop: up },
      'degraded',
    );
    expect(apiBox({ ...facts, rotation: 'up', reading: readOnly })).toMatchObject({
      health: 'degraded',
      detail: 'read-only (no primary); no sessions (Redis down)',
    });
  });

  it('is green and carries its numbers when ready', () => {
    const box = apiBox({ ...facts, rotation: 'up', reading: reading({ primary: up }) });
    expect(box).toMatchObject({
      health: 'up',
      readiness: 'ok',
      rps: 12.5,
      proxiedRps: 12,
      inFlight: 3,
      cacheHitRatio: 0.5,
    });
    expect(apiBox({ url: facts.url, rotation: 'up', inFlight: 0 }).name).toBe('127.0.0.1:3002');
  });
});

describe('workerBox', () => {
  const url = 'http://127.0.0.1:3101';
  const metrics = 'queue_jobs_active{queue="render"} 2\nqueue_worker_concurrency{queue="render"} 8\n';

  it('reads health from its readiness and load from its metrics', () => {
    expect(
      workerBox({
        url,
        name: 'worker-1',
        reading: reading({ primary: up, queue: up }, 'ok', 200, metrics),
        jobsPerSecond: 4,
      }),
    ).toMatchObject({
      health: 'up',
      active: 2,
      concurrency: 8,
      jobsPerSecond: 4,
    });
    expect(workerBox({ url, reading: unreachable })).toMatchObject({
      health: 'down',
      detail: 'connection refused',
      active: null,
    });
    expect(
      workerBox({ url, reading: reading({ primary: { status: 'down' }, queue: up }, 'error', 503) }),
    ).toMatchObject({ health: 'down', detail: 'not ready: primary' });
    expect(workerBox({ url, reading: reading({}, 'draining', 503) }).health).toBe('degraded');
    expect(
      workerBox({ url, reading: reading({ queue: up }, 'ok', 200, 'queue_worker_concurrency{queue="render"} 8') })
        .active,
    ).toBe(0);
  });
});

describe('databaseBoxes', () => {
  it('merges what every instance reports: majority role, largest lag, primaries first', () => {
    const a = reading({
      'db:replica-2': node('replica', 'healthy'),
      'db:primary': node('primary', 'healthy'),
      'db:replica-1': node('replica', 'healthy', { lagSeconds: 0.1 }),
    });
    const b = reading({
      'db:primary': node('primary', 'healthy'),
      'db:replica-1': node('replica', 'lagging', { lagSeconds: 3.25 }),
      'db:replica-2': node('replica', 'healthy'),
    });
    const boxes = databaseBoxes([a, b, unreachable, undefined], []);
    expect(boxes.map((d) => [d.name, d.role, d.health])).toEqual([
      ['primary', 'primary', 'up'],
      ['replica-1', 'replica', 'degraded'],
      ['replica-2', 'replica', 'up'],
    ]);
    expect(boxes[1]).toMatchObject({ id: 'db:replica-1', lagSeconds: 3.25, detail: 'lagging 3.3 s', reportedBy: 2 });
  });

  it('swaps the boxes after a promotion: the serving primary first, the dead one after it', () => {
    const after = reading({
      'db:primary': node('primary', 'down', { error: 'connect ECONNREFUSED' }),
      'db:replica-1': node('primary', 'healthy'),
      'db:replica-2': node('replica', 'healthy'),
    });
    const boxes = databaseBoxes([after], []);
    expect(boxes.map((d) => `${d.name}:${d.role}:${d.health}`)).toEqual([
      'replica-1:primary:up',
      'primary:primary:down',
      'replica-2:replica:up',
    ]);
    expect(boxes[1]!.detail).toBe('down: connect ECONNREFUSED');
  });

  it('marks the serving replicas read-only while no primary serves', () => {
    const noPrimary = reading({
      primary: { status: 'degraded', impact: 'read-only' },
      'db:primary': node('primary', 'down', { error: 'connect ECONNREFUSED' }),
      'db:replica-1': node('replica', 'healthy'),
      'db:replica-2': node('replica', 'down'),
    });
    expect(databaseBoxes([noPrimary], []).map((d) => `${d.name}: ${d.detail}`)).toEqual([
      'primary: down: connect ECONNREFUSED',
      'replica-1: read-only: healthy, no primary',
      'replica-2: down',
    ]);
  });

  it('says degraded when instances disagree, and keeps the last known nodes as unknown when nobody reports', () => {
    const seesIt = reading({ 'db:replica-1': node('replica', 'healthy') });
    const doesNot = reading({ 'db:replica-1': node('replica', 'down') });
    const [box] = databaseBoxes([seesIt, doesNot], []);
    expect(box).toMatchObject({ health: 'degraded', detail: 'down for 1 of 2 instances' });
    const later = databaseBoxes([unreachable], [box as DatabaseBox]);
    expect(later).toEqual([
      expect.objectContaining({ name: 'replica-1', health: 'unknown', reportedBy: 0, lagSeconds: null }),
    ]);
  });
});

describe('redisBox and queueBox', () => {
  const worker = (health: WorkerBox['health']) => ({ health }) as WorkerBox;

  it('Redis is what the instances see', () => {
    expect(redisBox([reading({ redis: up }), reading({ redis: up })]).health).toBe('up');
    expect(redisBox([reading({ redis: { status: 'down' } }), unreachable]).health).toBe('down');
    expect(redisBox([reading({ redis: up }), reading({ redis: { status: 'down' } })]).health).toBe('degraded');
    expect(redisBox([unreachable]).health).toBe('unknown');
  });

  it('the queue takes the max of the queue-wide gauges over processes, summed over queues', () => {
    const jobs = (waiting: number, failed: number) =>
      `queue_jobs{queue="render",state="waiting"} ${waiting}\nqueue_jobs{queue="render",state="failed"} ${failed}\nqueue_jobs{queue="mail",state="waiting"} 1\nqueue_jobs{queue="render",state="active"} 2\noutbox_pending_rows 4\n`;
    const api = reading({ queue: up }, 'ok', 200, jobs(5, 1));
    const w = reading({ queue: up }, 'ok', 200, jobs(3, 2));
    expect(queueBox([api], [w], [worker('up')])).toMatchObject({
      health: 'up',
      waiting: 6,
      failed: 2,
      active: 2,
      delayed: null,
      outboxPending: 4,
    });
  });

  it('the queue is red when unreachable, amber with work waiting and no worker up', () => {
    const apiSeesNoQueue = reading({ queue: { status: 'degraded', message: 'queue unreachable' } }, 'degraded');
    expect(queueBox([apiSeesNoQueue], [unreachable], [worker('down')])).toMatchObject({
      health: 'down',
      detail: 'unreachable: jobs wait in the outbox',
    });
    const waiting = reading({ queue: up }, 'ok', 200, 'queue_jobs{queue="render",state="waiting"} 7');
    expect(queueBox([waiting], [unreachable], [worker('down')])).toMatchObject({
      health: 'degraded',
      detail: 'jobs waiting and no worker is up',
      waiting: 7,
    });
    expect(queueBox([waiting], [], []).health).toBe('up');
  });
});
