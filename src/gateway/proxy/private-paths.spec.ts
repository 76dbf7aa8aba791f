import { PrivatePaths } from './private-paths';

describe('PrivatePaths', () => {
  const paths = new PrivatePaths(['/metrics', '/internal/']);

  it.each([
    '/metrics',
    '/metrics?x=1',
    '/metrics/',
    '/metrics/extra',
    '//metrics',
    '/METRICS',
    '/%6Detrics',
    '/metrics#frag',
    '/internal',
    '/internal/x',
  ])('refuses %s', (target) => expect(paths.matches(target)).toBe(true));

  it.each(['/', '/metricsx', '/articles/metrics', '/api/metrics', '/health/ready', '/%E0%A4%A', '/static/metrics.css'])(
    'forwards %s',
    (target) => expect(paths.matches(target)).toBe(false),
  );

  it('is off with no prefixes', () => {
    const none = new PrivatePaths([]);
    expect(none.enabled).toBe(false);
    expect(none.matches('/metrics')).toBe(false);
  });
});
