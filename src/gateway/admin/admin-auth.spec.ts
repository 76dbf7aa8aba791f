import { clientErrorReply } from '../server/gateway-server';
import { AdminAuth } from './admin-auth';

describe('AdminAuth', () => {
  const token = 'a-long-enough-admin-token';

  it('with a token: every admin route needs it, compared in constant time', () => {
    const auth = new AdminAuth(token, true);
    expect(auth.check(`Bearer ${token}`, 'write', true)).toEqual({ ok: true });
    expect(auth.check(`bearer ${token}`, 'read', false)).toEqual({ ok: true });
    expect(auth.check(undefined, 'read', false)).toMatchObject({ ok: false, statusCode: 401 });
    expect(auth.check('Bearer nope', 'read', false)).toMatchObject({
      ok: false,
      statusCode: 401,
      message: 'invalid admin token',
    });
    expect(auth.check(token, 'read', false)).toMatchObject({ ok: false, statusCode: 401 });
  });

  it('without a token: changes are refused; reads are open except on the public port in production', () => {
    const dev = new AdminAuth(undefined, false);
    expect(dev.check(undefined, 'read', true)).toEqual({ ok: true });
    expect(dev.check(undefined, 'write', false)).toMatchObject({ ok: false, statusCode: 403 });
    const prod = new AdminAuth(undefined, true);
    expect(prod.check(undefined, 'read', true)).toMatchObject({ ok: false, statusCode: 404 });
    expect(prod.check(undefined, 'read', false)).toEqual({ ok: true });
  });

  it('a purge token opens the purge route and nothing else; the admin token opens it too', () => {
    const purgeToken = 'a-long-enough-purge-token';
    const auth = new AdminAuth(token, true, purgeToken);
    expect(auth.check(`Bearer ${purgeToken}`, 'purge', true)).toEqual({ ok: true });
    expect(auth.check(`Bearer ${token}`, 'purge', true)).toEqual({ ok: true });
    expect(auth.check(`Bearer ${purgeToken}`, 'write', true)).toMatchObject({ ok: false, statusCode: 401 });
    expect(auth.check(`Bearer ${purgeToken}`, 'read', true)).toMatchObject({ ok: false, statusCode: 401 });
    expect(auth.check('Bearer nope', 'purge', true)).toMatchObject({ ok: false, statusCode: 401 });
    const purgeOnly = new AdminAuth(undefined, false, purgeToken);
    expect(purgeOnly.check(`Bearer ${purgeToken}`, 'purge', true)).toEqual({ ok: true });
    expect(purgeOnly.check(undefined, 'purge', true)).toMatchObject({ ok: false, statusCode: 401 });
    expect(purgeOnly.check(`Bearer ${purgeToken}`, 'write', true)).toMatchObject({ ok: false, statusCode: 403 });
  });
});

describe('clientErrorReply', () => {
  const limits = {
    maxHeaderBytes: 4096,
    maxBodyBytes: 1,
    headersTimeoutMs: 1000,
    bodyTimeoutMs: 1,
    keepAliveTimeoutMs: 1,
    maxConnections: 1,
  };
  const err = (code: string, reason?: string) => Object.assign(new Error(code), { code, reason });

  it('maps parser errors to JSON-able statuses, and drops resets silently', () => {
    expect(clientErrorReply(err('HPE_HEADER_OVERFLOW'), limits)).toMatchObject({ statusCode: 431 });
    expect(clientErrorReply(err('ERR_HTTP_REQUEST_TIMEOUT'), limits)).toMatchObject({ statusCode: 408 });
    expect(clientErrorReply(err('HPE_INVALID_METHOD', 'Invalid method encountered'), limits)).toEqual({
      statusCode: 400,
      message: 'malformed HTTP request: Invalid method encountered',
      counter: 'malformed',
    });
    expect(clientErrorReply(err('ECONNRESET'), limits)).toBeUndefined();
  });
});
