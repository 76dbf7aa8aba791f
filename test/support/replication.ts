import { Client } from 'pg';

/** The replica URLs of an infra env (`DB_REPLICAS=replica-1=postgres://...,replica-2=...`). */
export function replicaUrls(env: Readonly<Record<string, string>>): string[] {
  return (env.DB_REPLICAS ?? '')
    .split(',')
    .filter(Boolean)
    .map((item) => item.replace(/^[a-z0-9][a-z0-9_-]*=/, ''));
}

async function scalar<T>(url: string, sql: string, params: unknown[] = []): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000, query_timeout: 2000 });
  await client.connect();
  try {
    return Object.values((await client.query(sql, params)).rows[0] as Record<string, T>)[0]!;
  } finally {
    await client.end();
  }
}

/**
 * Waits until every replica has replayed what the primary has now. For tests that write to the primary behind
 * the API's back (it cannot know those positions) and then read through the API, which may read a replica.
 */
export async function waitForReplicas(env: Readonly<Record<string, string>>, timeoutMs = 10_000): Promise<void> {
  const target = await scalar<string>(env.DB_PRIMARY!, 'SELECT pg_current_wal_insert_lsn()::text');
  const deadline = Date.now() + timeoutMs;
  for (const url of replicaUrls(env)) {
    while (!(await scalar<boolean>(url, 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn', [target]))) {
      if (Date.now() > deadline) throw new Error(`a replica did not replay ${target} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
