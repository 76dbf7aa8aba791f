import { execFileSync } from 'node:child_process';
import { chownSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface ServiceUser {
  readonly uid: number;
  readonly gid: number;
}

/**
 * PostgreSQL refuses to run as root. When we are root (CI, containers), run it as the `postgres`
 * system user, or `nobody` when there is none; otherwise run it as ourselves.
 */
export function postgresServiceUser(): ServiceUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      // try the next candidate
    }
  }
  throw new Error('running as root, but there is no postgres or nobody user to run PostgreSQL as');
}

/** Hands a directory tree to the service user, so PostgreSQL can write its data there. */
export function chownTree(path: string, user: ServiceUser | undefined): void {
  if (!user) return;
  chownSync(path, user.uid, user.gid);
  if (!statSync(path).isDirectory()) return;
  for (const entry of readdirSync(path)) chownTree(join(path, entry), user);
}
