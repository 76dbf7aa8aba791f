import { Client } from 'pg';
import { endOfWal, formatLsn, parseLsn } from '../../src/infra/database/topology/lsn';

/** The replicas of an infra env (`DB_REPLICAS=replica-1=postgres://...,replica-2=...`). */
export function replicasOf(env: Readonly<Record<string, string>>): Array<{ name: string; url: string }> {
  return (env.DB_REPLICAS ?? '')
    .split(',')
    .filter(Boolean)
    .map((item) => {
      const eq = item.indexOf('=');
      return { name: item.slice(0, eq), url: item.slice(eq + 1) };
    });
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
 * Waits until the replicas (all, or those named) have replayed what the primary has now. For tests that read
 * anonymously what was just written (anonymous reads may hit a replica still behind), or that wrote to the
 * primary behind the API's back, where no session position covers the write.
 */
export async function waitForReplicas(
  env: Readonly<Record<string, string>>,
  names?: readonly string[],
  timeoutMs = 10_000,
): Promise<void> {
  const insert = await scalar<string>(env.DB_PRIMARY!, 'SELECT pg_current_wal_insert_lsn()::text');
  // In the form replay positions take (replay stops at page boundaries that insert positions skip).
  const target = formatLsn(endOfWal(parseLsn(insert), 8192, 16 * 1024 * 1024));
  const deadline = Date.now() + timeoutMs;
  for (const { name, url } of replicasOf(env)) {
    if (names && !names.includes(name)) continue;
    while (!(await scalar<boolean>(url, 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn', [target]))) {
      if (Date.now() > deadline) throw new Error(`${name} did not replay ${target} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
