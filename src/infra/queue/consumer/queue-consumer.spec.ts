import { Logger } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import { Registry } from 'prom-client';
import { ConsumerMetrics } from './consumer.metrics';
import type { JobHandler } from './job-handler';
import { type LogContext, QueueConsumer } from './queue-consumer';

// No Redis here: lazyConnect keeps the Worker from connecting, and jobs are handed to its processor directly.
// processFn and processorAcceptsSignal are BullMQ 6.7's own fields (the version is pinned in package.json).
type Processor = (job: Job, token?: string) => Promise<string>;

describe('QueueConsumer', () => {
  let registry: Registry;
  let contexts: Array<Record<string, unknown> | undefined>;
  let consumer: QueueConsumer;

  const logContext: LogContext = {
    runInContext: (fn, options) => {
      contexts.push(options?.bindings);
      return fn();
    },
    logger: { isLevelEnabled: () => false },
  };
  const make = (handler: JobHandler) =>
    new QueueConsumer({
      queue: 'render',
      handler,
      connection: { host: '127.0.0.1', port: 1, lazyConnect: true, maxRetriesPerRequest: null },
      workerName: 'worker-a',
      concurrency: 2,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
      maxStalledCount: 1,
      metrics: new ConsumerMetrics(registry),
      logContext,
    });
  const run = (job: Partial<Job>) =>
    (consumer.worker as unknown as { processFn: Processor }).processFn(job as Job, 'token');
  const job = (data: unknown, attemptsMade = 0): Partial<Job> => ({
    id: 'job-1',
    name: 'render',
    data,
    attemptsMade,
    opts: { attempts: 3 },
  });
  const metric = async (line: string) => (await registry.metrics()).split('\n').find((l) => l.startsWith(line));

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    registry = new Registry();
    contexts = [];
  });
  afterEach(() => consumer.worker.close());

  it('declares no signal parameter, so BullMQ builds no AbortController per job', () => {
    consumer = make({ parse: (d) => d as never, handle: async () => 'ok' });
    expect((consumer.worker as unknown as { processorAcceptsSignal: boolean }).processorAcceptsSignal).toBe(false);
  });

  it('runs each job in a log context naming its request, job, queue and attempt, and counts its outcome', async () => {
    let active = '';
    consumer = make({
      parse: (d) => d as never,
      handle: async (_, context) => {
        active = (await metric('queue_jobs_active{queue="render"}'))!;
        expect(context).toMatchObject({ jobId: 'job-1', attempt: 2, worker: 'worker-a' });
        expect(context.signal.aborted).toBe(false);
        return 'rendered';
      },
    });
    await expect(run(job({ requestId: 'req-9' }, 1))).resolves.toBe('rendered');
    expect(contexts).toEqual([{ requestId: 'req-9', jobId: 'job-1', queue: 'render', attempt: 2 }]);
    expect(active).toBe('queue_jobs_active{queue="render"} 1');
    expect(await metric('queue_jobs_active{queue="render"}')).toBe('queue_jobs_active{queue="render"} 0');
    expect(await metric('queue_jobs_processed_total{')).toBe(
      'queue_jobs_processed_total{queue="render",outcome="completed",result="rendered"} 1',
    );
    expect(await metric('queue_job_duration_seconds_count{')).toBe(
      'queue_job_duration_seconds_count{queue="render",outcome="completed"} 1',
    );
  });

  it('fails a malformed payload for good, and a failing attempt as a retry until the last one', async () => {
    const onExhausted = jest.fn(async () => undefined);
    consumer = make({
      parse: (d) => {
        if (!(d as { ok?: boolean }).ok) throw new Error('articleId: required');
        return d as never;
      },
      handle: async () => {
        throw new Error('database down');
      },
      onExhausted,
    });
    await expect(run(job({}))).rejects.toThrow(UnrecoverableError);
    await expect(run(job({ ok: true }, 0))).rejects.toThrow('database down');
    expect(onExhausted).not.toHaveBeenCalled();
    await expect(run(job({ ok: true }, 2))).rejects.toThrow('database down');
    expect(onExhausted).toHaveBeenCalledTimes(1);
    const text = await registry.metrics();
    expect(text).toContain('queue_jobs_processed_total{queue="render",outcome="failed",result=""} 2');
    expect(text).toContain('queue_jobs_processed_total{queue="render",outcome="retried",result=""} 1');
  });
});
