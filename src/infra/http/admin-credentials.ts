import { createHash, timingSafeEqual } from 'node:crypto';

export const ADMIN_SECURITY = 'admin';
/** Browsers answer this with a login prompt, which is what makes the queue dashboard usable without a token header. */
export const ADMIN_CHALLENGE = 'Basic realm="admin", charset="UTF-8"';

/**
 * Accepts `Authorization: Bearer <token>` (scripts) or Basic with any user name and the token as password
 * (browsers). The comparison is constant-time over SHA-256 digests, so neither content nor length leaks.
 */
export function isAdminAuthorized(authorization: string | undefined, token: string): boolean {
  const presented = presentedSecret(authorization);
  if (presented === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(presented), digest(token));
}

function presentedSecret(authorization: string | undefined): string | undefined {
  const match = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) return undefined;
  const [, scheme, value] = match;
  if (scheme!.toLowerCase() === 'bearer') return value;
  const decoded = Buffer.from(value!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}
