import proxyAddr from 'proxy-addr';
import { forwardRequest } from './request-headers';
import { clientResponseHeaders } from './response-headers';

const trust = proxyAddr.compile(['10.0.0.0/8']);
const pairs = (flat: string[]) =>
  Array.from({ length: flat.length / 2 }, (_, i) => `${flat[2 * i]}: ${flat[2 * i + 1]}`);

describe('forwardRequest', () => {
  it('sets X-Forwarded-* from the connection and keeps end-to-end headers in order', () => {
    const f = forwardRequest(['Host', 'shop.example', 'Accept', '*/*', 'X-Request-Id', 'abc-1'], '192.0.2.9', trust);
    expect(pairs(f.headers)).toEqual([
      'Host: shop.example',
      'Accept: */*',
      'x-forwarded-for: 192.0.2.9',
      'x-forwarded-proto: http',
      'x-forwarded-host: shop.example',
      'x-request-id: abc-1',
    ]);
    expect(f).toMatchObject({
      requestId: 'abc-1',
      host: 'shop.example',
      credentialed: false,
      contentLength: -1,
      chunked: false,
    });
  });

  it("overwrites an untrusted client's forwarding headers", () => {
    const f = forwardRequest(
      [
        'Host',
        'h',
        'X-Forwarded-For',
        '6.6.6.6',
        'X-Forwarded-Proto',
        'https',
        'X-Forwarded-Host',
        'evil',
        'Forwarded',
        'for=6.6.6.6',
        'X-Real-IP',
        '6.6.6.6',
      ],
      '192.0.2.9',
      trust,
    );
    expect(pairs(f.headers)).toEqual([
      'Host: h',
      'x-forwarded-for: 192.0.2.9',
      'x-forwarded-proto: http',
      'x-forwarded-host: h',
      `x-request-id: ${f.requestId}`,
    ]);
  });

  it('appends to the chain of a trusted proxy and keeps its proto and host', () => {
    const f = forwardRequest(
      [
        'Host',
        'h',
        'X-Forwarded-For',
        '203.0.113.7',
        'x-forwarded-for',
        '10.1.1.1',
        'X-Forwarded-Proto',
        'https',
        'X-Forwarded-Host',
        'shop',
      ],
      '10.0.0.5',
      trust,
    );
    expect(pairs(f.headers)).toContain('x-forwarded-for: 203.0.113.7, 10.1.1.1, 10.0.0.5');
    expect(pairs(f.headers)).toContain('x-forwarded-proto: https');
    expect(pairs(f.headers)).toContain('x-forwarded-host: shop');
  });

  it('trusts nobody without GATEWAY_TRUSTED_PROXIES', () => {
    expect(pairs(forwardRequest(['X-Forwarded-For', '1.1.1.1'], '10.0.0.5', null).headers)).toContain(
      'x-forwarded-for: 10.0.0.5',
    );
  });

  it('drops hop-by-hop headers, and those named in Connection', () => {
    const f = forwardRequest(
      [
        'Host',
        'h',
        'Connection',
        'keep-alive, X-Secret',
        'X-Secret',
        '1',
        'Keep-Alive',
        '5',
        'TE',
        'trailers',
        'Transfer-Encoding',
        'chunked',
        'Upgrade',
        'h2c',
        'Expect',
        '100-continue',
        'Proxy-Authorization',
        'x',
        'X-Kept',
        'yes',
      ],
      '192.0.2.9',
      null,
    );
    expect(f.headers.filter((_, i) => i % 2 === 0).slice(0, 2)).toEqual(['Host', 'X-Kept']);
    expect(f.chunked).toBe(true);
  });

  it('mints a request id when the incoming one is missing or unsafe', () => {
    expect(forwardRequest([], '1.2.3.4', null).requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(forwardRequest(['X-Request-Id', 'has spaces'], '1.2.3.4', null).requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('notes credentials, conditionals and the declared body length', () => {
    const f = forwardRequest(['Cookie', 'sid=1', 'If-None-Match', '"x"', 'Content-Length', '12'], '1.2.3.4', null);
    expect(f).toMatchObject({ credentialed: true, conditional: true, contentLength: 12 });
  });
});

describe('clientResponseHeaders', () => {
  it('converts raw buffers and drops hop-by-hop response headers', () => {
    const raw = [
      'Content-Type',
      'text/plain',
      'Connection',
      'close, X-Internal',
      'X-Internal',
      'a',
      'Transfer-Encoding',
      'chunked',
      'Keep-Alive',
      'timeout=5',
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
    ].map((s) => Buffer.from(s, 'latin1'));
    expect(clientResponseHeaders(raw)).toEqual([
      'Content-Type',
      'text/plain',
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
    ]);
  });
});
