import type { Redis } from 'ioredis';
import type { TestInfra } from '../../test/support/infra';
import { waitForReplicas } from '../../test/support/replication';

/** The cache benchmark's data: article ids in a fixed pattern, so wrk's Lua script can walk them. */
export const ID_PREFIX = '00000000-0000-4000-8000-';
export const articleId = (n: number) => `${ID_PREFIX}${String(n).padStart(12, '0')}`;
export const HOT_ID = articleId(0);

// A typical article: about 1 KB of markdown and its rendered HTML, so the JSON is about 1.9 KB.
const BODY = Array.from(
  { length: 6 },
  (_, i) =>
    `## Part ${i + 1}\n\nReads outnumber writes **100 to 1**, so a cache in front of the replicas pays for itself. Entry ${i + 1} of six.`,
).join('\n\n');
const HTML = Array.from(
  { length: 6 },
  (_, i) =>
    `<h2>Part ${i + 1}</h2>\n<p>Reads outnumber writes <strong>100 to 1</strong>, so a cache in front of the replicas pays for itself. Entry ${i + 1} of six.</p>`,
).join('\n');

/** One author, the hot article (id ...000) and `rows` others of the same size, written behind the API's back. */
export async function seed(infra: TestInfra, rows: number, log: (line: string) => void): Promise<void> {
  const primary = infra.cluster.primary;
  const [author] = await primary.query<{ id: string }>(
    `INSERT INTO users (email, password_hash, display_name) VALUES ('bench@example.com', 'not-a-hash', 'Bench Author') RETURNING id`,
  );
  await primary.query(
    `INSERT INTO articles (id, author_id, title, body, render_status, rendered_revision, rendered_html, reading_time_minutes, rendered_at)
     SELECT ($1 || lpad(g::text, 12, '0'))::uuid, $2, 'Scaling reads with a cache', $3, 'done', 1, $4, 1, now()
     FROM generate_series(0, $5::int) g`,
    [ID_PREFIX, author!.id, BODY, HTML, rows],
    { timeoutMs: 120_000 },
  );
  await primary.query('VACUUM ANALYZE articles', [], { timeoutMs: 120_000 });
  await waitForReplicas(infra.env, undefined, 60_000);
  log(`seeded ${rows + 1} articles`);
}

/** Each request of a miss round asks for the next article id (threads interleave), wrapping after `rows`. */
export function missLua(threads: number, rows: number): string {
  return `
local next_thread = 0
function setup(thread)
  thread:set("offset", next_thread)
  next_thread = next_thread + 1
end
counter = 0
request = function()
  local n = (offset + counter * ${threads}) % ${rows} + 1
  counter = counter + 1
  return wrk.format("GET", string.format("/articles/${ID_PREFIX}%012d", n))
end
`;
}

/** The miss articles' entries (and any lease) from earlier rounds: each miss round starts with none cached. */
export async function forgetMissEntries(redis: Redis): Promise<void> {
  const script = `local k = redis.call('KEYS', ARGV[1]) for i = 1, #k, 5000 do redis.call('DEL', unpack(k, i, math.min(i + 4999, #k))) end return #k`;
  await redis.eval(script, 0, `c:?:article:${ID_PREFIX}*`);
}
