import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { readBacklogAt } from '../worker-autoscaler';
import { type DrillContext, statusRecords, until } from './drill-runner';
import { signUpDrillUser } from './mixed-load';
import { queueBurstSvg } from './queue-burst-svg';

export interface QueueBurstOptions extends DrillContext {
  /** Render jobs to enqueue, one article each. */
  readonly jobs: number;
}

/** One second of the burst: how deep the queue was, how many workers ran, how many jobs finished. */
export interface BurstSecond {
  readonly t: number;
  readonly enqueued: number;
  readonly backlog: number | null;
  readonly workers: number;
  readonly jobsPerSecond: number;
}

export interface QueueBurstResult {
  readonly jobs: number;
  readonly autoscale: { readonly min: number; readonly max: number } | null;
  /** From the first job enqueued to the last. */
  readonly enqueueMs: number;
  /** From the first job enqueued until every job's effect is in the database (null: not within the timeout). */
  readonly drainedAfterMs: number | null;
  readonly workersAtStart: number;
  readonly peakWorkers: number;
  readonly peakBacklog: number;
  /** From drained until the workers were back at MIN (null: no autoscaling, or not within the timeout). */
  readonly backToMinAfterMs: number | null;
  readonly workersAtEnd: number;
  /** Articles whose render is in article_renders (its primary key allows one per revision), and those missing. */
  readonly rendered: number;
  readonly notRendered: number;
  /** Jobs a worker started more than once (BullMQ's attemptsStarted, through GET /jobs/:id): re-runs after a stall or a failure. */
  readonly jobsRunMoreThanOnce: number;
  readonly seconds: readonly BurstSecond[];
  readonly svgFile: string;
}

const SAMPLE_MS = 250;
const IN_FLIGHT = 16;
const DRAIN_TIMEOUT_MS = 5 * 60_000;
// A few KB of markdown: rendering it (markdown-it, then sanitize-html) costs a worker ~10 ms of CPU, like a real post.
const BODY = `# A post from the burst\n\n${'Replicas take the **reads** and the primary the *writes*; [more](https://example.com). '.repeat(60)}\n\n`;

/**
 * `drill queue-burst`: writes a burst of articles through the gateway (each commits one render job through the
 * outbox) and follows, every quarter second, the queue's backlog (the KEDA metric), the worker processes and the
 * jobs finished, until every job's effect is in the database and, with autoscaling, the workers are back at MIN.
 * Exactly once is checked on both sides: each article's render is in article_renders (none lost), and no job was
 * started twice (a drained worker that gave up a job, or a stall, would show as a second start).
 */
export async function runQueueBurst(options: QueueBurstOptions): Promise<{ result: QueueBurstResult; report: string }> {
  const { ctl, jobs, log = () => undefined } = options;
  const members = await statusRecords(ctl);
  const gateway = members.find((m) => m.kind === 'gateway')?.address;
  const api = members.find((m) => m.kind === 'api' && m.state === 'running')?.address;
  const primary = members.find((m) => m.kind === 'postgres' && m.role === 'primary')?.address;
  if (!gateway || !api || !primary) throw new Error('queue-burst needs a running gateway, API and primary');
  const autoscale = await ctl('autoscale')
    .then((out) => JSON.parse(out) as { min: number; max: number; scaleDownWindowMs: number })
    .catch(() => null);

  const cookie = await signUpDrillUser(gateway, 'Burst Writer');
  const db = new Client({ connectionString: `postgres://postgres@${primary}/app`, query_timeout: 10_000 });
  await db.connect();
  const ids: string[] = [];
  const jobIds: string[] = [];
  const samples: Array<{ at: number; enqueued: number; backlog: number | null; workers: number; rendered: number }> =
    [];
  const workersNow = async () =>
    (await statusRecords(ctl)).filter((m) => m.kind === 'worker' && m.state === 'running').length;
  const renderedNow = async () =>
    (
      await db.query<{ n: number }>(
        'SELECT count(DISTINCT article_id)::int AS n FROM article_renders WHERE article_id = ANY($1::uuid[])',
        [ids],
      )
    ).rows[0]!.n;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const at = Date.now();
      const [backlog, workers, rendered] = await Promise.all([readBacklogAt(api), workersNow(), renderedNow()]);
      samples.push({ at, enqueued: ids.length, backlog: backlog ?? null, workers, rendered });
      await sleep(Math.max(0, SAMPLE_MS - (Date.now() - at)));
    }
  })();

  try {
    await sleep(1000);
    const startedAt = Date.now();
    const workersAtStart = await workersNow();
    log(`writing ${jobs} articles (${jobs} render jobs) through ${gateway}, ${IN_FLIGHT} at a time...`);
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < jobs) {
          const i = next++;
          const res = await post(gateway, cookie, { title: `burst ${i}`, body: BODY });
          ids.push(res.id);
          jobIds.push(res.render.jobId);
        }
      }),
    );
    const enqueueMs = Date.now() - startedAt;
    log(`${jobs} jobs enqueued in ${(enqueueMs / 1000).toFixed(1)} s; waiting until every one has run...`);
    const drainedAt = await until(async () => (await renderedNow()) === jobs, DRAIN_TIMEOUT_MS);
    let backToMinAt: number | null = null;
    if (autoscale && drainedAt !== null) {
      log(`drained; waiting for the workers to go back to ${autoscale.min} (cooldown)...`);
      backToMinAt = await until(
        async () => (await workersNow()) === autoscale.min,
        autoscale.scaleDownWindowMs + 60_000,
      );
    }
    await sleep(1000);
    sampling = false;
    await sampler;

    const rendered = await renderedNow();
    const runs: number[] = [];
    for (let i = 0; i < jobIds.length; i += IN_FLIGHT)
      runs.push(...(await Promise.all(jobIds.slice(i, i + IN_FLIGHT).map((id) => jobRuns(gateway, id)))));
    const seconds = perSecond(samples, startedAt);
    mkdirSync(options.outDir, { recursive: true });
    const svgFile = join(options.outDir, `queue-burst-${new Date(startedAt).toISOString().replace(/[:.]/g, '-')}.svg`);
    const result: QueueBurstResult = {
      jobs,
      autoscale: autoscale && { min: autoscale.min, max: autoscale.max },
      enqueueMs,
      drainedAfterMs: drainedAt === null ? null : drainedAt - startedAt,
      workersAtStart,
      peakWorkers: Math.max(...samples.map((s) => s.workers)),
      peakBacklog: Math.max(0, ...samples.map((s) => s.backlog ?? 0)),
      backToMinAfterMs: backToMinAt === null || drainedAt === null ? null : backToMinAt - drainedAt,
      workersAtEnd: await workersNow(),
      rendered,
      notRendered: jobs - rendered,
      jobsRunMoreThanOnce: runs.filter((n) => n > 1).length,
      seconds,
      svgFile,
    };
    writeFileSync(svgFile, queueBurstSvg(`drill queue-burst (${jobs} jobs)`, seconds));
    return { result, report: report(result) };
  } finally {
    sampling = false;
    await sampler.catch(() => undefined);
    await db.end();
  }
}

/** The samples as one row a second (second 0: the burst began): the last backlog and worker count, jobs done. */
function perSecond(
  samples: ReadonlyArray<{ at: number; enqueued: number; backlog: number | null; workers: number; rendered: number }>,
  startedAt: number,
): BurstSecond[] {
  const bySecond = new Map<number, (typeof samples)[number]>();
  for (const s of samples) bySecond.set(Math.floor((s.at - startedAt) / 1000), s);
  const rows: BurstSecond[] = [];
  let renderedBefore = samples[0]?.rendered ?? 0;
  for (const [t, s] of [...bySecond].sort((a, b) => a[0] - b[0])) {
    rows.push({
      t,
      enqueued: s.enqueued,
      backlog: s.backlog,
      workers: s.workers,
      jobsPerSecond: s.rendered - renderedBefore,
    });
    renderedBefore = s.rendered;
  }
  return rows;
}

function report(r: QueueBurstResult): string {
  const s = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
  const head = '     t  enqueued   backlog  workers   jobs/s';
  const rows = r.seconds.map((x) =>
    [
      `${x.t >= 0 ? '+' : ''}${x.t}s`.padStart(6),
      String(x.enqueued).padStart(10),
      String(x.backlog ?? '-').padStart(10),
      String(x.workers).padStart(9),
      String(x.jobsPerSecond).padStart(9),
    ].join(''),
  );
  return [
    head,
    ...rows,
    '',
    `drill queue-burst: ${r.jobs} render jobs${r.autoscale ? `, workers ${r.autoscale.min}..${r.autoscale.max}` : ' (no autoscaling: --autoscale-workers)'}`,
    `  enqueued in              ${s(r.enqueueMs)}`,
    `  burst to drained         ${s(r.drainedAfterMs)}`,
    `  workers                  ${r.workersAtStart} at the start, ${r.peakWorkers} at the peak, ${r.workersAtEnd} at the end`,
    `  peak backlog             ${r.peakBacklog}`,
    `  drained to MIN workers   ${s(r.backToMinAfterMs)}`,
    `  rendered                 ${r.rendered} of ${r.jobs} (missing: ${r.notRendered})`,
    `  jobs started twice       ${r.jobsRunMoreThanOnce} (BullMQ attemptsStarted > 1: a stall or a failure re-ran it)`,
    `  chart                    ${r.svgFile}`,
  ].join('\n');
}

async function post(
  gateway: string,
  cookie: string,
  body: unknown,
): Promise<{ id: string; render: { jobId: string } }> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${gateway}/articles`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status === 201) return (await res.json()) as { id: string; render: { jobId: string } };
    await res.arrayBuffer();
    // A 503 with Retry-After (back-pressure) is retried as a client should; anything else ends the drill.
    if (res.status !== 503 || attempt >= 5) throw new Error(`queue-burst write refused (${res.status})`);
    await sleep(Number(res.headers.get('retry-after') ?? 1) * 1000);
  }
}

async function jobRuns(gateway: string, jobId: string): Promise<number> {
  const res = await fetch(`${gateway}/jobs/${jobId}`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET /jobs/${jobId}: ${res.status}`);
  return ((await res.json()) as { runs: number }).runs;
}
