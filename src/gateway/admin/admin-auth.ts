import { createHash, timingSafeEqual } from 'node:crypto';

/** `purge` is a write that a purge-only token (GATEWAY_PURGE_TOKEN) may also make. */
export type AdminAccess = 'read' | 'purge' | 'write';

export type AuthVerdict =
  { readonly ok: true } | { readonly ok: false; readonly statusCode: 401 | 403 | 404; readonly message: string };

/**
 * Who may use the admin API. With GATEWAY_ADMIN_TOKEN set, every admin route needs
 * `Authorization: Bearer <token>`. GATEWAY_PURGE_TOKEN, if set, opens the purge route alone (least privilege for the
 * origins that purge their pages: that token cannot change upstreams). Without one, changes are refused, and reads are open only off the
 * public listener or outside production, so a production gateway never shows its topology by default.
 */
export class AdminAuth {
  private readonly digest?: Buffer;
  private readonly purgeDigest?: Buffer;

  constructor(
    token: string | undefined,
    private readonly production: boolean,
    purgeToken?: string,
  ) {
    // Compare digests: timingSafeEqual needs equal lengths, and the token's length stays secret too.
    this.digest = token === undefined ? undefined : sha256(token);
    this.purgeDigest = purgeToken === undefined ? undefined : sha256(purgeToken);
  }

  /** Whether a token is configured (otherwise reads need none and changes are refused). */
  get hasToken(): boolean {
    return this.digest !== undefined;
  }

  check(authorization: string | undefined, access: AdminAccess, publicListener: boolean): AuthVerdict {
    const presented = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
    if (access === 'purge' && this.purgeDigest) {
      // The purge-only token opens this route; the admin token (checked below) opens it too.
      if (presented !== undefined && timingSafeEqual(sha256(presented), this.purgeDigest)) return { ok: true };
      if (this.digest === undefined)
        return { ok: false, statusCode: 401, message: 'purge token required (Authorization: Bearer <token>)' };
    }
    if (this.digest === undefined) {
      if (access !== 'read')
        return {
          ok: false,
          statusCode: 403,
          message: 'the admin API is read-only: set GATEWAY_ADMIN_TOKEN to enable changes',
        };
      if (publicListener && this.production) return { ok: false, statusCode: 404, message: 'not found' };
      return { ok: true };
    }
    if (presented === undefined)
      return { ok: false, statusCode: 401, message: 'admin token required (Authorization: Bearer <token>)' };
    if (!timingSafeEqual(sha256(presented), this.digest))
      return { ok: false, statusCode: 401, message: 'invalid admin token' };
    return { ok: true };
  }
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();
