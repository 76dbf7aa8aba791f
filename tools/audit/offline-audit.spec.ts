import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditLockfile, loadAdvisories } from './offline-audit';

describe('offline audit against the committed advisory snapshot', () => {
  const advisories = loadAdvisories();

  it('finds nothing in the production tree of package-lock.json', () => {
    const lock = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package-lock.json'), 'utf8'));
    expect(auditLockfile(lock, advisories)).toEqual([]);
  });

  it('flags a vulnerable production package, nested or not, and ignores devDependencies', () => {
    const lock = {
      packages: {
        '': { version: '0.1.0' },
        'node_modules/sanitize-html': { version: '2.17.5' },
        'node_modules/ioredis/node_modules/redis-parser': { version: '3.0.0' },
        'node_modules/some-tool/node_modules/sanitize-html': { version: '2.10.0', dev: true },
      },
    };
    const found = auditLockfile(lock, advisories).map((f) => `${f.path}@${f.installed} ${f.id}`);
    expect(found).toEqual([
      'node_modules/sanitize-html@2.17.5 CVE-2026-63670',
      'node_modules/sanitize-html@2.17.5 CVE-2026-84371',
      'node_modules/ioredis/node_modules/redis-parser@3.0.0 unassigned',
    ]);
  });
});
