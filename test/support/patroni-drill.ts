import { Client } from 'pg';
import type { PatroniCluster } from '../../tools/stack/patroni-cluster';
import type { PatroniMember } from '../../tools/stack/patroni-member';
import { sleep } from '../../tools/stack/ports';

/** Client-side timeouts only: a server-side statement_timeout cancelling a commit that waits for its synchronous
 * standby makes PostgreSQL report success (with a WARNING) for a commit no standby has. */
const CONNECT_TIMEOUT_MS = 1000;
const QUERY_TIMEOUT_MS = 2000;

export interface Acknowledged {
  readonly id: number;
  readonly node: string;
  readonly at: number;
}

export interface WriteLoop {
  /** Writes whose INSERT (autocommit: its COMMIT) was acknowledged to the client. */
  readonly acknowledged: Acknowledged[];
  /** Attempts without an acknowledgement, by error code (SQLSTATE or Node errno; "none" for client timeouts). */
  readonly failures: Record<string, number>;
  stop(): Promise<void>;
}

/** Inserts rows with increasing ids into `table` on whichever member Patroni's REST API calls the leader. */
export function startWriteLoop(cluster: PatroniCluster, table: string, firstId: number): WriteLoop {
  const acknowledged: Acknowledged[] = [];
  const failures: Record<string, number> = {};
  let stopped = false;
  const done = (async () => {
    let client: Client | undefined;
    let target: PatroniMember | undefined;
    for (let id = firstId; !stopped; id++) {
      try {
        if (!client) {
          target = await cluster.leader();
          if (!target) {
            await sleep(100);
            continue;
          }
          client = connectionTo(target);
          await client.connect();
        }
        await client.query(`INSERT INTO ${table} (id, node) VALUES ($1, $2)`, [id, target!.name]);
        acknowledged.push({ id, node: target!.name, at: Date.now() });
        // About 50 writes a second: enough to straddle every transition, light on a 2-core machine.
        await sleep(15);
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'none';
        failures[code] = (failures[code] ?? 0) + 1;
        // Not awaited: against a frozen server the goodbye would wait as long as the freeze.
        void client?.end().catch(() => undefined);
        client = undefined;
        await sleep(50);
      }
    }
    void client?.end().catch(() => undefined);
  })();
  return {
    acknowledged,
    failures,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

export interface WritableSampler {
  /** Samples taken, and how many members accepted a write in each. */
  readonly counts: { samples: number; none: number; one: number; many: number };
  /** Every sample in which more than one member was a writable primary. */
  readonly splitBrain: Array<{ at: number; writable: string[] }>;
  stop(): Promise<void>;
}

/** Every ~200 ms asks each member: not in recovery, and does a write commit? Two yeses in one sample is split brain. */
export function startWritableSampler(cluster: PatroniCluster, probeTable: string): WritableSampler {
  const counts = { samples: 0, none: 0, one: 0, many: 0 };
  const splitBrain: Array<{ at: number; writable: string[] }> = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const at = Date.now();
      const answers = await Promise.all(cluster.nodes.map((m) => acceptsWrite(m, probeTable)));
      const writable = cluster.nodes.filter((_, i) => answers[i]).map((m) => m.name);
      counts.samples++;
      if (writable.length === 0) counts.none++;
      else if (writable.length === 1) counts.one++;
      else {
        counts.many++;
        splitBrain.push({ at, writable });
      }
      await sleep(Math.max(0, 200 - (Date.now() - at)));
    }
  })();
  return {
    counts,
    splitBrain,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

async function acceptsWrite(member: PatroniMember, probeTable: string): Promise<boolean> {
  // A SIGSTOPped member cannot answer at all; probing it would only stretch the sample by the timeout.
  if (member.process.state !== 'running') return false;
  const client = connectionTo(member, 500);
  try {
    await client.connect();
    const { rows } = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
    if (rows[0]!.r) return false;
    await client.query(`INSERT INTO ${probeTable} (node) VALUES ($1)`, [member.name]);
    return true;
  } catch {
    return false;
  } finally {
    void client.end().catch(() => undefined);
  }
}

function connectionTo(member: PatroniMember, timeoutMs?: number): Client {
  const client = new Client({
    connectionString: member.url(),
    connectionTimeoutMillis: timeoutMs ?? CONNECT_TIMEOUT_MS,
    query_timeout: timeoutMs ?? QUERY_TIMEOUT_MS,
  });
  client.on('error', () => undefined);
  return client;
}

/** Acknowledged ids missing from `table` on `member`. */
export async function missingOn(
  member: PatroniMember,
  table: string,
  acked: readonly Acknowledged[],
): Promise<number[]> {
  const rows = await member.query<{ id: string }>(
    `SELECT a.id FROM unnest($1::bigint[]) AS a(id) LEFT JOIN ${table} t ON t.id = a.id WHERE t.id IS NULL`,
    [acked.map((a) => a.id)],
  );
  return rows.map((r) => Number(r.id));
}

/** Polls until `check` holds; returns the milliseconds it took. */
export async function timeUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check().catch(() => false))) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
  return Date.now() - started;
}
