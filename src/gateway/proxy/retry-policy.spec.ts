import { classifyFailure } from './failure';
import { isIdempotent, mayRetry, type RetryQuestion } from './retry-policy';

const q = (over: Partial<RetryQuestion>): RetryQuestion => ({
  method: 'GET',
  phase: 'sent',
  hasBody: false,
  responseStarted: false,
  triesSoFar: 1,
  maxTries: 3,
  msLeft: 1000,
  ...over,
});

describe('mayRetry (no duplicates)', () => {
  it.each(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'POST', 'PATCH'])(
    'retries %s that never reached an upstream',
    (method) => {
      expect(mayRetry(q({ method, phase: 'connect', hasBody: true }))).toBe(true);
    },
  );

  it.each(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])('retries idempotent %s after it was sent', (method) => {
    expect(mayRetry(q({ method }))).toBe(true);
  });

  it.each(['POST', 'PATCH'])('never retries %s once sent', (method) => {
    expect(mayRetry(q({ method }))).toBe(false);
    expect(mayRetry(q({ method, hasBody: true }))).toBe(false);
  });

  it('does not replay a streamed body that was already sent, even for PUT', () => {
    expect(mayRetry(q({ method: 'PUT', hasBody: true }))).toBe(false);
  });

  it('never retries once anything reached the client', () => {
    expect(mayRetry(q({ phase: 'connect', responseStarted: true }))).toBe(false);
  });

  it('is bounded by tries and by the total timeout', () => {
    expect(mayRetry(q({ phase: 'connect', triesSoFar: 3 }))).toBe(false);
    expect(mayRetry(q({ phase: 'connect', msLeft: 0 }))).toBe(false);
  });

  it('knows the idempotent methods', () => {
    expect(['GET', 'PUT', 'DELETE', 'POST', 'PATCH'].map(isIdempotent)).toEqual([true, true, true, false, false]);
  });
});

describe('classifyFailure', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });

  it('counts anything before the request was written as a connect failure', () => {
    expect(classifyFailure(err('ECONNREFUSED'), false)).toEqual({
      phase: 'connect',
      kind: 'connect',
      code: 'ECONNREFUSED',
    });
    expect(classifyFailure(err('UND_ERR_CONNECT_TIMEOUT'), false)).toMatchObject({ phase: 'connect', kind: 'timeout' });
    expect(classifyFailure(err('ECONNRESET'), false)).toMatchObject({ phase: 'connect' });
  });

  it('separates timeouts from resets once sent', () => {
    expect(classifyFailure(err('UND_ERR_HEADERS_TIMEOUT'), true)).toMatchObject({ phase: 'sent', kind: 'timeout' });
    expect(classifyFailure(err('UND_ERR_SOCKET'), true)).toMatchObject({ phase: 'sent', kind: 'reset' });
  });

  it('blames the client for a request undici refuses to send', () => {
    expect(classifyFailure(err('UND_ERR_INVALID_ARG'), false)).toBe('invalid-request');
  });
});
