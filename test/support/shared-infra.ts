import { readFileSync } from 'node:fs';

export const SHARED_INFRA_FILE_VAR = 'Z2M_SHARED_INFRA_FILE';

export interface SharedInfraDescriptor {
  readonly dir: string;
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The PostgreSQL cluster and Redis that jest's globalSetup started for the whole run. Suites may read and
 * write through it, but must not stop, freeze or reconfigure it: they start their own infra for that.
 */
export function sharedInfra(): SharedInfraDescriptor {
  const file = process.env[SHARED_INFRA_FILE_VAR];
  if (!file)
    throw new Error('shared infra is not running: run e2e suites through jest (the e2e project has a globalSetup)');
  return JSON.parse(readFileSync(file, 'utf8')) as SharedInfraDescriptor;
}
