import { HttpClient } from './http-client';

export interface ReadResult {
  readonly status: number;
  readonly node: string | null;
  readonly ms: number;
  readonly index: number;
}

/**
 * `total` GETs of `path` by `concurrency` anonymous clients; `during(done)` runs alongside, told how many reads
 * finished so far, so a test can break something in the middle of the loop.
 */
export async function readLoop(
  baseUrl: string,
  path: string,
  {
    total,
    concurrency = 4,
    during,
  }: { total: number; concurrency?: number; during?: (done: () => number) => Promise<void> },
): Promise<ReadResult[]> {
  const results: ReadResult[] = [];
  let next = 0;
  const worker = async () => {
    const client = new HttpClient(baseUrl);
    while (next < total) {
      const index = next++;
      const started = Date.now();
      const res = await client.get(path);
      results.push({ status: res.status, node: res.headers.get('x-db-node'), ms: Date.now() - started, index });
    }
  };
  await Promise.all([...Array.from({ length: concurrency }, worker), during?.(() => results.length)]);
  return results.sort((a, b) => a.index - b.index);
}

/** How many results each X-Db-Node value has. */
export function byNode(results: readonly ReadResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.node ?? '(none)'] = (counts[r.node ?? '(none)'] ?? 0) + 1;
  return counts;
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
