import { type Upstream } from './upstream';
import { UpstreamSet } from './upstream-set';

const config = {
  upstream: { connections: 1, connectTimeoutMs: 100, responseTimeoutMs: 100, idleTimeoutMs: 100 },
  health: { path: '/', intervalMs: 100, timeoutMs: 50, rise: 2, fall: 2 },
  ejection: { baseMs: 1000, maxMs: 5000 },
};

describe('UpstreamSet', () => {
  let set: UpstreamSet;
  const up = (url: string) => set.get(url)!.recordCheck(true, 'ok');

  beforeEach(() => {
    set = new UpstreamSet(config);
    for (const port of [1, 2, 3]) set.add(`http://127.0.0.1:${port}`, 'static');
  });
  afterEach(() => set.close());

  const names = (n: number, tried: Upstream[] | null = null) =>
    Array.from({ length: n }, () => set.pick(tried, Date.now())?.url.slice(-1));

  it('rotates over available upstreams only; unknown (unchecked) ones get nothing', () => {
    expect(set.pick(null, Date.now())).toBeUndefined();
    up('http://127.0.0.1:1');
    up('http://127.0.0.1:3');
    expect(names(4)).toEqual(['1', '3', '1', '3']);
  });

  it('skips drained, ejected and already-tried upstreams', () => {
    for (const p of [1, 2, 3]) up(`http://127.0.0.1:${p}`);
    set.get('http://127.0.0.1:2')!.recordCheck(false, 'HTTP 503', true);
    expect(set.get('http://127.0.0.1:2')!.status).toBe('draining');
    set.get('http://127.0.0.1:3')!.recordFailure('connect');
    expect(names(2)).toEqual(['1', '1']);
    expect(set.pick([set.get('http://127.0.0.1:1')!], Date.now())).toBeUndefined();
  });

  it('replace() changes only the members from that source', () => {
    set.add('http://127.0.0.1:9', 'admin');
    const added: string[] = [];
    const removed: string[] = [];
    set.listen({ added: (u) => added.push(u.url), removed: (u) => removed.push(u.url) });
    expect(set.replace('static', ['http://127.0.0.1:2', 'http://127.0.0.1:4'])).toEqual({
      added: ['http://127.0.0.1:4'],
      removed: ['http://127.0.0.1:1', 'http://127.0.0.1:3'],
    });
    expect(set.all.map((u) => u.url)).toEqual(['http://127.0.0.1:2', 'http://127.0.0.1:9', 'http://127.0.0.1:4']);
    expect(added).toEqual(['http://127.0.0.1:4']);
    expect(removed).toHaveLength(2);
  });

  it('refuses duplicates and unknown removals', () => {
    expect(set.add('http://127.0.0.1:1', 'admin')).toBe(false);
    expect(set.remove('http://127.0.0.1:7')).toBe(false);
    expect(set.remove('http://127.0.0.1:1')).toBe(true);
    expect(set.all).toHaveLength(2);
  });

  it('a rise back to up ends a passive ejection and a drain', () => {
    const u = set.get('http://127.0.0.1:1')!;
    u.recordCheck(true, 'ok');
    u.recordFailure('timeout');
    u.recordCheck(false, 'HTTP 503', true);
    expect(u.available(Date.now())).toBe(false);
    u.recordCheck(true, 'ok');
    expect(u.available(Date.now())).toBe(false);
    u.recordCheck(true, 'ok');
    expect(u.available(Date.now())).toBe(true);
    expect(u.failures).toEqual({ connect: 0, timeout: 1, reset: 0 });
  });
});
