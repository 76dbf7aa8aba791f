import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../../config';
import { InitialSchema1764072000000 } from './migrations/1764072000000-initial-schema';
import { OutboxAndRenders1764500000000 } from './migrations/1764500000000-outbox-and-renders';

/** Connection settings shared by the app and the migration CLI. `synchronize` stays off, as in production. */
export function typeOrmOptions(config: AppConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.db.primaryUrl,
    applicationName: config.instanceId,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'schema_migrations',
    migrations: [InitialSchema1764072000000, OutboxAndRenders1764500000000],
    // Without both timeouts a frozen server (SIGSTOP, a dead NAT entry) hangs a pooled query forever.
    connectTimeoutMS: config.db.connectTimeoutMs,
    extra: {
      max: config.db.poolSize,
      query_timeout: config.db.queryTimeoutMs,
      statement_timeout: config.db.queryTimeoutMs,
      idleTimeoutMillis: 30_000,
    },
  };
}
