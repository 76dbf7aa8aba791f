import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';

export interface Advisory {
  readonly package: string;
  readonly vulnerable: string;
  readonly id: string;
  readonly summary: string;
}

export interface Finding extends Advisory {
  readonly installed: string;
  readonly path: string;
}

interface Lockfile {
  readonly packages: Record<string, { version?: string; dev?: boolean }>;
}

/** Every production package in a package-lock.json (v3) that falls in an advisory's vulnerable range. */
export function auditLockfile(lock: Lockfile, advisories: readonly Advisory[]): Finding[] {
  const byName = Map.groupBy(advisories, (a) => a.package);
  const findings: Finding[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path || entry.dev || !entry.version) continue;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    for (const advisory of byName.get(name) ?? []) {
      if (semver.satisfies(entry.version, advisory.vulnerable))
        findings.push({ ...advisory, installed: entry.version, path });
    }
  }
  return findings;
}

export function loadAdvisories(file = join(__dirname, 'advisories.json')): Advisory[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as { advisories: Advisory[] }).advisories;
}

if (require.main === module) {
  const lock = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package-lock.json'), 'utf8')) as Lockfile;
  const findings = auditLockfile(lock, loadAdvisories());
  for (const f of findings) console.error(`${f.path}@${f.installed}: ${f.id} (${f.vulnerable}) ${f.summary}`);
  console.log(
    `offline audit: ${findings.length} finding(s) in the production tree (snapshot tools/audit/advisories.json)`,
  );
  process.exitCode = findings.length ? 1 : 0;
}
