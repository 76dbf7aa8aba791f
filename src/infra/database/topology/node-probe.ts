import type { Pool } from 'pg';
import { endOfWal, type Lsn, parseLsn } from './lsn';

/** What one probe of a node saw. */
export interface NodeObservation {
  /** When the probe started (the app's clock). */
  readonly at: number;
  readonly inRecovery: boolean;
  /** The end of WAL on a primary (see endOfWal), the replay position on a replica. */
  readonly lsn: Lsn;
  /** Seconds since the last transaction replayed here committed on the primary; null on a primary or before any replay. */
  readonly replayAgeSeconds: number | null;
  readonly replayPaused: boolean;
  /** The timeline a primary writes, or the one a replica receives; null when a replica is not streaming. */
  readonly timeline: number | null;
  readonly serverVersion: string;
  readonly searchSchema: string;
  readonly walBlockSize: number;
  readonly walSegmentSize: number;
}

// One round trip per node and interval. The timeline comes from the WAL file name being written, because
// pg_control_checkpoint().timeline_id still shows the old timeline until the post-promotion checkpoint ends.
const PROBE_SQL = `
SELECT pg_is_in_recovery() AS in_recovery,
       (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END)::text AS lsn,
       EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS replay_age_seconds,
       CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END AS replay_paused,
       CASE WHEN pg_is_in_recovery() THEN (SELECT received_tli FROM pg_stat_wal_receiver)
            ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS timeline,
       current_setting('server_version') AS server_version,
       current_schema() AS search_schema,
       current_setting('wal_block_size')::int AS wal_block_size,
       (SELECT setting::int FROM pg_settings WHERE name = 'wal_segment_size') AS wal_segment_size`;

interface ProbeRow {
  in_recovery: boolean;
  lsn: string | null;
  replay_age_seconds: number | null;
  replay_paused: boolean;
  timeline: number | null;
  server_version: string;
  search_schema: string;
  wal_block_size: number;
  wal_segment_size: number;
}

/** Runs the probe on the node's own one-connection pool (never the query pool, which may be saturated). */
export async function probeNode(probePool: Pool): Promise<NodeObservation> {
  const at = Date.now();
  const { rows } = await probePool.query<ProbeRow>(PROBE_SQL);
  const row = rows[0]!;
  const lsn = row.lsn === null ? 0n : parseLsn(row.lsn);
  return {
    at,
    inRecovery: row.in_recovery,
    lsn: row.in_recovery ? lsn : endOfWal(lsn, row.wal_block_size, row.wal_segment_size),
    replayAgeSeconds: row.replay_age_seconds,
    replayPaused: row.replay_paused,
    timeline: row.timeline,
    serverVersion: row.server_version,
    searchSchema: row.search_schema,
    walBlockSize: row.wal_block_size,
    walSegmentSize: row.wal_segment_size,
  };
}
