import { ADMIN_SESSION_COOKIE, AdminSession } from './admin-session';

const cookieOf = (setCookie: string) => setCookie.split(';')[0]!;

describe('AdminSession', () => {
  it('issues an HttpOnly, SameSite=Strict cookie scoped to the admin routes that it then accepts', () => {
    const session = new AdminSession();
    const setCookie = session.issue();
    expect(setCookie).toMatch(
      new RegExp(
        `^${ADMIN_SESSION_COOKIE}=\\d+\\.[\\w-]{43}; Path=/_gateway/; Max-Age=43200; HttpOnly; SameSite=Strict$`,
      ),
    );
    expect(session.verify(`other=1; ${cookieOf(setCookie)}; more=2`)).toBe(true);
  });

  it('refuses a missing, altered, foreign or expired cookie', () => {
    let now = 1_700_000_000_000;
    const session = new AdminSession(() => now);
    const cookie = cookieOf(session.issue());
    expect(session.verify(undefined)).toBe(false);
    expect(session.verify('gw_admin_session=')).toBe(false);
    const [expires, sig] = cookie.split('=')[1]!.split('.');
    expect(session.verify(`${ADMIN_SESSION_COOKIE}=${Number(expires) + 3600}.${sig}`)).toBe(false);
    expect(session.verify(`${ADMIN_SESSION_COOKIE}=${expires}.${'A'.repeat(43)}`)).toBe(false);
    expect(new AdminSession(() => now).verify(cookie)).toBe(false);
    now += 12 * 3600 * 1000;
    expect(session.verify(cookie)).toBe(false);
  });

  it('clears with an expired cookie on the same path', () => {
    expect(new AdminSession().clear()).toBe(
      `${ADMIN_SESSION_COOKIE}=; Path=/_gateway/; Max-Age=0; HttpOnly; SameSite=Strict`,
    );
  });
});
