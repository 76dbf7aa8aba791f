import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const ADMIN_SESSION_COOKIE = 'gw_admin_session';
const MAX_AGE_SECONDS = 12 * 3600;

/**
 * A browser's read-only admin session, for what a browser cannot send a bearer token with (EventSource).
 * The cookie holds an expiry signed with a key that lives only in this process: never the token itself,
 * useless against any other route, and void when the gateway restarts. Changes always need the token.
 */
export class AdminSession {
  private readonly key = randomBytes(32);

  constructor(private readonly now: () => number = Date.now) {}

  /** A Set-Cookie value scoped to the admin routes; HttpOnly, and SameSite=Strict so no other site can use it. */
  issue(): string {
    const expires = Math.floor(this.now() / 1000) + MAX_AGE_SECONDS;
    return `${ADMIN_SESSION_COOKIE}=${expires}.${this.sign(expires)}; Path=/_gateway/; Max-Age=${MAX_AGE_SECONDS}; HttpOnly; SameSite=Strict`;
  }

  /** A Set-Cookie value that removes the session. */
  clear(): string {
    return `${ADMIN_SESSION_COOKIE}=; Path=/_gateway/; Max-Age=0; HttpOnly; SameSite=Strict`;
  }

  /** True when the Cookie header carries a session this process signed and that has not expired. */
  verify(cookieHeader: string | undefined): boolean {
    const value = cookieValue(cookieHeader, ADMIN_SESSION_COOKIE);
    const match = value === undefined ? null : /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!match) return false;
    const expires = Number(match[1]);
    if (expires * 1000 <= this.now()) return false;
    return timingSafeEqual(Buffer.from(match[2]!), Buffer.from(this.sign(expires)));
  }

  private sign(expires: number): string {
    return createHmac('sha256', this.key).update(`admin-read:${expires}`).digest('base64url');
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
