import type { DataSource } from 'typeorm';
import { routingOf } from '../routing/routing-data-source';
import { formatLsn } from '../topology/lsn';

/**
 * The primary's current WAL position, for a background job to carry: call it after the transaction that wrote
 * commits (inside it, the commit is not yet below the position), then in the worker
 * `runWithMinLsn(job.data.lsn, () => ...)` reads at least that fresh.
 */
export async function currentPrimaryLsn(dataSource: DataSource): Promise<string> {
  return formatLsn(await routingOf(dataSource).router.currentPrimaryLsn());
}
