import { Client } from 'pg';

export interface QueryOptions {
  readonly database?: string;
  readonly timeoutMs?: number;
}

/**
 * One statement on a fresh connection, bounded on both the connect and the reply: the stack's own checks must
 * never hang on a frozen node. `urlOf(database)` gives the node's URL for a database.
 */
export async function queryOnce<T = Record<string, unknown>>(
  urlOf: (database: string) => string,
  sql: string,
  params: unknown[] = [],
  { database = 'app', timeoutMs = 5000 }: QueryOptions = {},
): Promise<T[]> {
  const client = new Client({
    connectionString: urlOf(database),
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** pg_is_in_recovery(): true on a replica, false on a primary; rejects when the node does not answer in time. */
export async function inRecovery(urlOf: (database: string) => string, timeoutMs: number): Promise<boolean> {
  const [row] = await queryOnce<{ r: boolean }>(urlOf, 'SELECT pg_is_in_recovery() AS r', [], {
    database: 'postgres',
    timeoutMs,
  });
  return row!.r;
}
