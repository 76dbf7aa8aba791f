import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startInfra, type TestInfra } from './infra';
import { SHARED_INFRA_FILE_VAR, type SharedInfraDescriptor } from './shared-infra';

declare global {
  var __Z2M_SHARED_INFRA__: TestInfra | undefined;
}

export default async function globalSetup(): Promise<void> {
  const infra = await startInfra({ replicas: 2 });
  globalThis.__Z2M_SHARED_INFRA__ = infra;
  const file = join(infra.dir, 'shared-infra.json');
  const descriptor: SharedInfraDescriptor = { dir: infra.dir, env: infra.env };
  writeFileSync(file, JSON.stringify(descriptor));
  // Test workers are forked after globalSetup and inherit this.
  process.env[SHARED_INFRA_FILE_VAR] = file;
}
