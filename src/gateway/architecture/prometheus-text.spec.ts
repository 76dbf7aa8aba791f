import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { parsePrometheusText, sumOf } from './prometheus-text';

describe('parsePrometheusText', () => {
  it('reads what prom-client writes, escaped label values included', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ instance: 'api-1' });
    const requests = new Counter({
      name: 'http_requests_total',
      help: 'h',
      labelNames: ['route', 'status_code'],
      registers: [registry],
    });
    requests.inc({ route: '/articles', status_code: '200' }, 7);
    requests.inc({ route: 'a "quoted" \\ path\nnext', status_code: '404' });
    new Gauge({ name: 'queue_jobs', help: 'h', labelNames: ['queue', 'state'], registers: [registry] }).set(
      { queue: 'render', state: 'waiting' },
      3,
    );
    new Histogram({ name: 'http_request_duration_seconds', help: 'h', buckets: [0.1], registers: [registry] }).observe(
      0.05,
    );

    const samples = parsePrometheusText(await registry.metrics());
    expect(samples).toContainEqual({
      name: 'http_requests_total',
      labels: { route: '/articles', status_code: '200', instance: 'api-1' },
      value: 7,
    });
    expect(samples).toContainEqual({
      name: 'http_requests_total',
      labels: { route: 'a "quoted" \\ path\nnext', status_code: '404', instance: 'api-1' },
      value: 1,
    });
    expect(samples).toContainEqual({
      name: 'queue_jobs',
      labels: { queue: 'render', state: 'waiting', instance: 'api-1' },
      value: 3,
    });
    expect(samples).toContainEqual({
      name: 'http_request_duration_seconds_bucket',
      labels: { le: '+Inf', instance: 'api-1' },
      value: 1,
    });
  });

  it('keeps only the wanted names', () => {
    const text = 'a_total 1\nb_total{x="1"} 2\nb_total_extra 3\n';
    expect(parsePrometheusText(text, new Set(['b_total']))).toEqual([
      { name: 'b_total', labels: { x: '1' }, value: 2 },
    ]);
  });

  it('reads special values, exponents, timestamps and empty label sets', () => {
    const text = [
      '# HELP x help',
      '# TYPE x gauge',
      'x{} +Inf',
      'y -Inf 1700000000000',
      'z NaN',
      'w 1.5e3',
      'v{a="1",} -2',
      '  u{ a = "b" }  .5  ',
    ].join('\n');
    const byName = Object.fromEntries(parsePrometheusText(text).map((s) => [s.name, s]));
    expect(byName.x).toEqual({ name: 'x', labels: {}, value: Infinity });
    expect(byName.y!.value).toBe(-Infinity);
    expect(byName.z!.value).toBeNaN();
    expect(byName.w!.value).toBe(1500);
    expect(byName.v).toEqual({ name: 'v', labels: { a: '1' }, value: -2 });
    expect(byName.u).toEqual({ name: 'u', labels: { a: 'b' }, value: 0.5 });
  });

  it('skips malformed lines instead of failing the scrape', () => {
    const text = [
      'ok 1',
      'no_value',
      'bad{a=1} 2',
      'open{a="1" 3',
      'word{a="1"} twelve',
      '{a="1"} 4',
      'ok2{a="}"} 5',
    ].join('\n');
    expect(parsePrometheusText(text)).toEqual([
      { name: 'ok', labels: {}, value: 1 },
      { name: 'ok2', labels: { a: '}' }, value: 5 },
    ]);
  });

  it('does not let a label named like an Object property change anything', () => {
    const [sample] = parsePrometheusText('m{__proto__="x",constructor="y"} 1');
    expect(sample!.labels).toEqual(expect.objectContaining({ constructor: 'y' }));
    expect(Object.getPrototypeOf(sample!.labels)).toBe(Object.prototype);
  });
});

describe('sumOf', () => {
  it('sums the matching series, and says when there is none', () => {
    const samples = parsePrometheusText('r{route="/a"} 2\nr{route="/health/ready"} 5\nr{route="/b"} 3\n');
    expect(sumOf(samples, 'r')).toBe(10);
    expect(sumOf(samples, 'r', (l) => !l.route!.startsWith('/health'))).toBe(5);
    expect(sumOf(samples, 'missing')).toBeUndefined();
  });
});
