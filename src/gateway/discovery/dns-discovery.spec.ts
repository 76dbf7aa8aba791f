import pino from 'pino';
import { UpstreamSet } from '../upstreams/upstream-set';
import { DnsDiscovery, upstreamUrlFor } from './dns-discovery';

const config = {
  upstream: { connections: 1, connectTimeoutMs: 100, responseTimeoutMs: 100, idleTimeoutMs: 100 },
  health: { path: '/', intervalMs: 100, timeoutMs: 50, rise: 1, fall: 1 },
  ejection: { baseMs: 100, maxMs: 100 },
};

describe('DnsDiscovery', () => {
  it('makes the DNS members match each answer, and keeps them when a lookup fails', async () => {
    const set = new UpstreamSet(config);
    set.add('http://127.0.0.1:9', 'admin');
    const answers: Array<string[] | Error> = [
      ['10.0.0.2', '10.0.0.1'],
      ['10.0.0.2', '10.0.0.3', '10.0.0.3'],
      new Error('ENOTFOUND'),
      ['fd00::1'],
    ];
    const discovery = new DnsDiscovery(
      set,
      'api',
      3000,
      1000,
      async () => {
        const next = answers.shift()!;
        if (next instanceof Error) throw next;
        return next;
      },
      pino({ level: 'silent' }),
    );
    const urls = () => set.all.map((u) => u.url).sort();

    await discovery.refresh();
    expect(urls()).toEqual(['http://10.0.0.1:3000', 'http://10.0.0.2:3000', 'http://127.0.0.1:9']);
    await discovery.refresh();
    expect(urls()).toEqual(['http://10.0.0.2:3000', 'http://10.0.0.3:3000', 'http://127.0.0.1:9']);
    await discovery.refresh();
    expect(urls()).toEqual(['http://10.0.0.2:3000', 'http://10.0.0.3:3000', 'http://127.0.0.1:9']);
    expect(discovery.lastError).toBe('Error: ENOTFOUND');
    await discovery.refresh();
    expect(urls()).toEqual(['http://127.0.0.1:9', 'http://[fd00::1]:3000']);
    expect(discovery.toJSON()).toMatchObject({ resolutions: 3, lastError: null });
    await set.close();
  });

  it('brackets IPv6 addresses', () => {
    expect(upstreamUrlFor('::1', 80)).toBe('http://[::1]:80');
    expect(upstreamUrlFor('10.1.2.3', 80)).toBe('http://10.1.2.3:80');
  });
});
