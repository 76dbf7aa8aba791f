import { primaryKey, variantKey } from './cache-key';
import { parseCacheControl } from './cache-control';
import { storability } from './edge-cache-policy';
import { etagMatches } from './cached-response';
import { mergeHeaders } from './cache-fill';

describe('parseCacheControl', () => {
  it('reads the directives the edge needs, case-insensitively', () => {
    expect(
      parseCacheControl('Public, Max-Age=60, s-maxage="120", stale-while-revalidate=5, stale-if-error=30'),
    ).toEqual({
      public: true,
      private: false,
      noStore: false,
      noCache: false,
      maxAge: 60,
      sMaxAge: 120,
      staleWhileRevalidate: 5,
      staleIfError: 30,
    });
  });

  it('treats field-name forms of private and no-cache as the whole thing', () => {
    expect(parseCacheControl('public, private="set-cookie", no-cache="x"')).toMatchObject({
      private: true,
      noCache: true,
    });
  });

  it('ignores malformed or negative seconds', () => {
    expect(parseCacheControl('max-age=abc, s-maxage=-1').maxAge).toBeUndefined();
    expect(parseCacheControl('max-age=1e3').maxAge).toBeUndefined();
    expect(parseCacheControl(undefined)).toMatchObject({ public: false });
  });
});

describe('storability (the admission rule)', () => {
  const decide = (headers: string[], status = 200) => storability(status, headers, 60);

  it('stores public responses with a TTL, s-maxage over max-age', () => {
    expect(decide(['Cache-Control', 'public, max-age=10, s-maxage=30'])).toMatchObject({
      storable: true,
      ttlMs: 30_000,
      staleIfErrorMs: 60_000,
      vary: [],
    });
    expect(decide(['cache-control', 'public', 'cache-control', 'max-age=5'])).toMatchObject({
      storable: true,
      ttlMs: 5000,
    });
  });

  it('takes its own policy from CDN-Cache-Control when the origin sends one (RFC 9213)', () => {
    const page = [
      'Cache-Control',
      'public, max-age=0, s-maxage=60',
      'CDN-Cache-Control',
      'public, s-maxage=60, stale-while-revalidate=30, stale-if-error=30',
    ];
    expect(decide(page)).toMatchObject({
      storable: true,
      ttlMs: 60_000,
      staleWhileRevalidateMs: 30_000,
      staleIfErrorMs: 30_000,
    });
    // A Cache-Control that forbids storing still wins over a CDN-Cache-Control that allows it.
    expect(decide(['Cache-Control', 'private', 'CDN-Cache-Control', 'public, s-maxage=60'])).toEqual({
      storable: false,
      reason: 'private',
    });
    expect(decide(['Cache-Control', 'public, max-age=60', 'CDN-Cache-Control', 'no-store'])).toEqual({
      storable: false,
      reason: 'no-store',
    });
  });

  it.each([
    [['Cache-Control', 'public, max-age=60', 'Set-Cookie', 'sid=1'], 'set-cookie'],
    [['Cache-Control', 'private, max-age=60'], 'private'],
    [['Cache-Control', 'public, no-store, max-age=60'], 'no-store'],
    [['Cache-Control', 'public, no-cache, max-age=60'], 'no-cache'],
    [['Cache-Control', 'max-age=60'], 'not public'],
    [['Cache-Control', 'public'], 'no ttl'],
    [['Cache-Control', 'public, max-age=0'], 'no ttl'],
    [['Cache-Control', 'public, max-age=60', 'Vary', 'Accept, *'], 'vary *'],
    [[], 'not public'],
  ])('refuses %j (%s)', (headers, reason) => {
    expect(decide(headers)).toEqual({ storable: false, reason });
  });

  it('refuses statuses a cache must not reuse', () => {
    expect(decide(['Cache-Control', 'public, max-age=60'], 500)).toEqual({ storable: false, reason: 'status 500' });
    expect(decide(['Cache-Control', 'public, max-age=60'], 404)).toMatchObject({ storable: true });
  });

  it('collects Vary names, lower-cased, sorted and deduplicated', () => {
    expect(
      decide([
        'Cache-Control',
        'public, max-age=1',
        'Vary',
        'Accept-Language, accept-encoding',
        'vary',
        'Accept-Language',
      ]),
    ).toMatchObject({
      vary: ['accept-encoding', 'accept-language'],
    });
  });
});

describe('cache keys', () => {
  it('key on host (case-insensitive), path and query', () => {
    expect(primaryKey('Shop.Example', '/a?b=1')).toBe('shop.example /a?b=1');
    expect(primaryKey('h', '/a?b=1')).not.toBe(primaryKey('h', '/a?b=2'));
  });

  it('add the value of each Vary header, absent and empty alike', () => {
    const p = primaryKey('h', '/x');
    expect(variantKey(p, [], { 'accept-language': 'en' })).toBe(p);
    const en = variantKey(p, ['accept-language'], { 'accept-language': 'en' });
    expect(en).not.toBe(variantKey(p, ['accept-language'], { 'accept-language': 'fr' }));
    expect(variantKey(p, ['accept-language'], { 'accept-language': '  en ' })).toBe(en);
    expect(variantKey(p, ['accept-language'], {})).toBe(variantKey(p, ['accept-language'], { 'accept-language': '' }));
  });
});

describe('revalidation helpers', () => {
  it('compares ETags weakly, in lists and with *', () => {
    expect(etagMatches('"a"', 'W/"a"')).toBe(true);
    expect(etagMatches('"x", W/"a"', '"a"')).toBe(true);
    expect(etagMatches('*', '"a"')).toBe(true);
    expect(etagMatches('"b"', '"a"')).toBe(false);
  });

  it("merges a 304's headers over the stored ones, keeping the body's", () => {
    const stored = [
      'Content-Type',
      'text/css',
      'Content-Length',
      '10',
      'ETag',
      '"a"',
      'Cache-Control',
      'public, max-age=1',
    ];
    const fresh = ['Cache-Control', 'public, max-age=60', 'ETag', '"a"', 'Content-Length', '0', 'Age', '3'];
    expect(mergeHeaders(stored, fresh)).toEqual([
      'Content-Type',
      'text/css',
      'Content-Length',
      '10',
      'Cache-Control',
      'public, max-age=60',
      'ETag',
      '"a"',
    ]);
  });
});
