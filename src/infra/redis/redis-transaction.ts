import type { ChainableCommander } from 'ioredis';

/** Runs a MULTI/pipeline and throws its first failed command: ioredis reports those in the result, not as a rejection. */
export async function execOrThrow(tx: ChainableCommander): Promise<unknown[]> {
  const results = await tx.exec();
  if (results === null) throw new Error('transaction discarded');
  const failed = results.find(([err]) => err)?.[0];
  if (failed) throw failed;
  return results.map(([, value]) => value);
}
