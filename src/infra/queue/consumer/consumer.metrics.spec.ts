import { Histogram, Registry } from 'prom-client';
import { ConsumerMetrics } from './consumer.metrics';
import { DURATION_BUCKETS } from './job-stats';

/** The exposition lines of one metric family, without HELP and TYPE. */
async function samples(registry: Registry, name: string): Promise<string[]> {
  const text = await registry.metrics();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('ConsumerMetrics (plain counters read at scrape time)', () => {
  let registry: Registry;
  let metrics: ConsumerMetrics;

  beforeEach(() => {
    registry = new Registry();
    metrics = new ConsumerMetrics(registry);
  });

  it('counts jobs by queue, outcome and handler result', async () => {
    const render = metrics.forQueue('render');
    render.record('completed', 'rendered', 0.002);
    render.record('completed', 'rendered', 0.003);
    render.record('completed', 'stale', 0.001);
    render.record('retried', '', 0.5);
    metrics.forQueue('mail').record('failed', '', 0.01);

    expect(await samples(registry, 'queue_jobs_processed_total')).toEqual([
      'queue_jobs_processed_total{queue="render",outcome="completed",result="rendered"} 2',
      'queue_jobs_processed_total{queue="render",outcome="completed",result="stale"} 1',
      'queue_jobs_processed_total{queue="render",outcome="retried",result=""} 1',
      'queue_jobs_processed_total{queue="mail",outcome="failed",result=""} 1',
    ]);
  });

  it('keeps counting across scrapes (collect rebuilds the series, it does not restart them)', async () => {
    const render = metrics.forQueue('render');
    render.record('completed', 'ok', 0.001);
    await registry.metrics();
    render.record('completed', 'ok', 0.001);
    expect(await samples(registry, 'queue_jobs_processed_total')).toEqual([
      'queue_jobs_processed_total{queue="render",outcome="completed",result="ok"} 2',
    ]);
  });

  it('exposes durations as a cumulative histogram per queue and outcome, like prom-client would', async () => {
    const render = metrics.forQueue('render');
    // On a bound counts in that bucket (le is "less than or equal"); above the last bound only +Inf counts it.
    for (const s of [0.0005, 0.001, 0.004, 0.3, 42]) render.record('completed', 'ok', s);
    render.record('requeued', '', 0.02);

    const lines = await samples(registry, 'queue_job_duration_seconds_bucket');
    const completed = lines.filter((l) => l.includes('outcome="completed"'));
    expect(completed).toEqual([
      'queue_job_duration_seconds_bucket{le="0.001",queue="render",outcome="completed"} 2',
      'queue_job_duration_seconds_bucket{le="0.0025",queue="render",outcome="completed"} 2',
      'queue_job_duration_seconds_bucket{le="0.005",queue="render",outcome="completed"} 3',
      'queue_job_duration_seconds_bucket{le="0.01",queue="render",outcome="completed"} 3',
      'queue_job_duration_seconds_bucket{le="0.025",queue="render",outcome="completed"} 3',
      'queue_job_duration_seconds_bucket{le="0.05",queue="render",outcome="completed"} 3',
      'queue_job_duration_seconds_bucket{le="0.1",queue="render",outcome="completed"} 3',
      'queue_job_duration_seconds_bucket{le="0.25",queue="render",outcome="completed"} 3',
      'queue_job_duration_seconds_bucket{le="0.5",queue="render",outcome="completed"} 4',
      'queue_job_duration_seconds_bucket{le="1",queue="render",outcome="completed"} 4',
      'queue_job_duration_seconds_bucket{le="2.5",queue="render",outcome="completed"} 4',
      'queue_job_duration_seconds_bucket{le="5",queue="render",outcome="completed"} 4',
      'queue_job_duration_seconds_bucket{le="10",queue="render",outcome="completed"} 4',
      'queue_job_duration_seconds_bucket{le="+Inf",queue="render",outcome="completed"} 5',
    ]);
    expect(lines.filter((l) => l.includes('outcome="requeued"'))).toContain(
      'queue_job_duration_seconds_bucket{le="0.025",queue="render",outcome="requeued"} 1',
    );
    expect(await samples(registry, 'queue_job_duration_seconds_count')).toEqual([
      'queue_job_duration_seconds_count{queue="render",outcome="completed"} 5',
      'queue_job_duration_seconds_count{queue="render",outcome="requeued"} 1',
    ]);
    const [sum] = await samples(registry, 'queue_job_duration_seconds_sum');
    expect(Number(sum!.split(' ')[1])).toBeCloseTo(0.0005 + 0.001 + 0.004 + 0.3 + 42, 9);
    expect(await registry.metrics()).toContain('# TYPE queue_job_duration_seconds histogram');
  });

  it("writes the same histogram text as prom-client's own Histogram for the same observations", async () => {
    const reference = new Registry();
    const histogram = new Histogram({
      name: 'queue_job_duration_seconds',
      help: 'x',
      labelNames: ['queue', 'outcome'],
      buckets: [...DURATION_BUCKETS],
      registers: [reference],
    });
    const durations = [0.0001, 0.001, 0.0011, 0.007, 0.07, 0.7, 7, 70, 0.25];
    for (const s of durations) {
      metrics.forQueue('render').record('completed', 'ok', s);
      histogram.observe({ queue: 'render', outcome: 'completed' }, s);
    }
    metrics.forQueue('render').record('failed', '', 3);
    histogram.observe({ queue: 'render', outcome: 'failed' }, 3);
    for (const suffix of ['_bucket', '_sum', '_count']) {
      expect(await samples(registry, `queue_job_duration_seconds${suffix}`)).toEqual(
        await samples(reference, `queue_job_duration_seconds${suffix}`),
      );
    }
  });

  it('reports active jobs per queue, zero included, and the same series as JSON', async () => {
    const render = metrics.forQueue('render');
    metrics.forQueue('mail');
    render.active += 2;
    expect(await samples(registry, 'queue_jobs_active')).toEqual([
      'queue_jobs_active{queue="render"} 2',
      'queue_jobs_active{queue="mail"} 0',
    ]);
    render.active -= 2;
    expect(await samples(registry, 'queue_jobs_active')).toContain('queue_jobs_active{queue="render"} 0');

    render.record('completed', 'ok', 0.001);
    const json = await registry.getMetricsAsJSON();
    const histogram = json.find((m) => m.name === 'queue_job_duration_seconds')!;
    expect(histogram.type).toBe('histogram');
    expect(histogram.values).toContainEqual({
      metricName: 'queue_job_duration_seconds_count',
      labels: { queue: 'render', outcome: 'completed' },
      value: 1,
    });
  });

  it('hands every consumer of a queue the same counters', () => {
    expect(metrics.forQueue('render')).toBe(metrics.forQueue('render'));
  });
});
