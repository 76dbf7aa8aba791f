import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigrations } from '../../tools/stack/node-programs';
import { startPostgresCluster, type PostgresCluster } from '../../tools/stack/postgres-cluster';
import { freePort } from '../../tools/stack/ports';
import { RedisNode } from '../../tools/stack/redis-node';

export interface InfraOptions {
  readonly replicas?: number;
  /** Synchronous replication; also turns the fast (fsync off) settings off, since such tests count lost writes. */
  readonly synchronous?: boolean;
}

/** Real PostgreSQL (primary + streaming replicas) and Redis on free private ports under a temp dir. */
export interface TestInfra {
  readonly dir: string;
  readonly cluster: PostgresCluster;
  readonly redis: RedisNode;
  /** The config variables every program started on this infra gets. */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

export async function startInfra({ replicas = 1, synchronous = false }: InfraOptions = {}): Promise<TestInfra> {
  const dir = mkdtempSync(join(tmpdir(), 'z2m-test-'));
  const ports = await Promise.all(Array.from({ length: replicas + 2 }, freePort));
  const [primaryPort, redisPort, ...replicaPorts] = ports as [number, number, ...number[]];
  const redis = new RedisNode({
    port: redisPort,
    dataDir: join(dir, 'redis'),
    logFile: join(dir, 'logs', 'redis.log'),
  });
  const [cluster] = await Promise.all([
    startPostgresCluster({ dir, primaryPort, replicaPorts, synchronous, fast: !synchronous }),
    redis.start(),
  ]);
  const env = {
    NODE_ENV: 'test',
    DB_PRIMARY: cluster.primary.url(),
    // Named like the processes, so X-Db-Node and the db_* metrics say replica-1, replica-2, ...
    DB_REPLICAS: cluster.replicas.map((r) => `${r.name}=${r.url()}`).join(','),
    REDIS_URL: redis.url,
    SESSION_SECRET: randomBytes(32).toString('base64url'),
    // Cheap hashing keeps signup-heavy suites fast; production keeps the OWASP defaults.
    PASSWORD_HASH_MEMORY_KIB: '8192',
    PASSWORD_HASH_ITERATIONS: '1',
    // Suites sign up hundreds of users from 127.0.0.1; the rate-limit suite sets its own small limits.
    RATE_LIMIT_MAX: '1000000',
    RATE_LIMIT_AUTH_IP_MAX: '1000000',
    RATE_LIMIT_AUTH_ACCOUNT_MAX: '1000000',
  };
  await runMigrations({ ...process.env, ...env });
  return {
    dir,
    cluster,
    redis,
    env,
    async stop() {
      await Promise.all([cluster.stop(), redis.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
