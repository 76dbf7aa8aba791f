import type { DataSource, EntityManager } from 'typeorm';
import { CURRENT_WAL_INSERT_LSN } from '../routing/replica-router';
import { routingOf } from '../routing/routing-data-source';
import { formatLsn } from '../topology/lsn';

/**
 * The primary's current WAL position, for a background job to carry: call it after the transaction that wrote
 * commits (inside it, the commit is not yet below the position), then in the worker
 * `runWithMinLsn(job.data.lsn, () => ...)` reads at least that fresh.
 *
 * `onConnectionOf`: a transaction already open on the primary answers it on its own connection, rather than
 * leasing a second one while it holds the first (with a pool of one, that second lease could never come). The
 * position then covers every commit before the call, not the open transaction's own writes.
 */
export async function currentPrimaryLsn(dataSource: DataSource, onConnectionOf?: EntityManager): Promise<string> {
  const { router } = routingOf(dataSource);
  if (!onConnectionOf) return formatLsn(await router.currentPrimaryLsn());
  const rows = await onConnectionOf.query<Array<{ lsn: string }>>(CURRENT_WAL_INSERT_LSN);
  return formatLsn(router.endOfPrimaryWal(rows[0]!.lsn));
}
