import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { MixedLoad, type Outcome } from './mixed-load';
import { type DrillSummary, renderTimeline, type Second, summarize, timeline } from './timeline';
import { timelineSvg } from './timeline-svg';

/** What `status --json` says about one process. */
export interface MemberRecord {
  readonly name: string;
  readonly pid: number | null;
  readonly kind: string;
  readonly role: string | null;
  readonly address: string;
  readonly state: string;
}

export interface DrillContext {
  /** `npm run stack -- <args>` against the running stack; resolves to its output. */
  readonly ctl: (...args: string[]) => Promise<string>;
  /** Where the SVG chart goes (.stack/drills/). */
  readonly outDir: string;
  readonly log?: (line: string) => void;
}

export interface DrillResult extends DrillSummary {
  readonly drill: string;
  readonly target: string;
  /** Acknowledged writes missing from the primary afterwards: counted, not assumed. */
  readonly writesLost: number;
  /** From the failure to the first acknowledged write after a refused one (null: writes were never refused). */
  readonly writesBackAfterMs: number | null;
  /** From restarting the failed node until it serves again in its new role (null: not applicable). */
  readonly rejoinedAfterMs: number | null;
  readonly seconds: readonly Second[];
  readonly svgFile: string;
  /** Distinct failures with their counts, most frequent first. */
  readonly failures: readonly string[];
  readonly report: string;
}

export const DRILLS = [
  'primary-kill',
  'primary-crash',
  'primary-freeze',
  'replica-kill',
  'redis-kill',
  'api-kill',
  'rolling-restart',
];

const WARM_UP_MS = 3_000;
const RECOVERY_TIMEOUT_MS = 60_000;
const OUTAGE_MS = 10_000;

export async function statusRecords(ctl: DrillContext['ctl']): Promise<MemberRecord[]> {
  return (await ctl('status', '--json'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MemberRecord);
}

/** Runs one named failure against the running stack under the built-in mixed load, and reports what it cost. */
export async function runDrill(name: string, context: DrillContext): Promise<DrillResult> {
  if (!DRILLS.includes(name)) throw new Error(`unknown drill "${name}"; drills: ${DRILLS.join(', ')}`);
  const { ctl, log = () => undefined } = context;
  const members = await statusRecords(ctl);
  const gateway = members.find((m) => m.kind === 'gateway')?.address;
  if (!gateway) throw new Error('no gateway in this stack');
  const load = new MixedLoad(gateway);
  await load.start();
  await sleep(WARM_UP_MS);
  const injectedAt = Date.now();
  let target: string;
  let rejoinedAfterMs: number | null = null;
  try {
    const act = await inject(name, members, ctl);
    target = act.target;
    log(`${name}: ${act.what}`);
    if (act.waitForWrites) await writesBack(load, injectedAt);
    else await sleep(OUTAGE_MS);
    if (act.restore) {
      const restoredAt = Date.now();
      await act.restore();
      const rejoinedAt = act.rejoined ? await until(act.rejoined, RECOVERY_TIMEOUT_MS) : null;
      if (rejoinedAt !== null) rejoinedAfterMs = rejoinedAt - restoredAt;
      log(`${name}: ${target} restored`);
    }
    await sleep(2_000);
  } finally {
    await load.stop();
  }
  const summary = summarize(load.outcomes.filter((o) => o.at >= injectedAt - WARM_UP_MS));
  const refusedFirst = load.outcomes.find((o) => o.kind === 'write' && o.status !== 201 && o.at >= injectedAt);
  const backAt = refusedFirst
    ? load.outcomes.find((o) => o.kind === 'write' && o.status === 201 && o.at > refusedFirst.at)?.at
    : undefined;
  const writesLost = await countLost(ctl, load.acknowledged);
  const seconds = timeline(load.outcomes, injectedAt);
  mkdirSync(context.outDir, { recursive: true });
  const svgFile = join(context.outDir, `${name}-${new Date(injectedAt).toISOString().replace(/[:.]/g, '-')}.svg`);
  const result = {
    drill: name,
    target,
    ...summary,
    writesLost,
    writesBackAfterMs: backAt === undefined ? null : backAt - injectedAt,
    rejoinedAfterMs,
    seconds,
    svgFile,
    failures: failureReasons(load.outcomes),
  };
  writeFileSync(svgFile, timelineSvg(`drill ${name} (${target})`, seconds, summary));
  return { ...result, report: report(result) };
}

interface Action {
  readonly target: string;
  readonly what: string;
  /** Wait until writes succeed again after being refused, instead of a fixed outage. */
  readonly waitForWrites: boolean;
  readonly restore?: () => Promise<unknown>;
  readonly rejoined?: () => Promise<boolean>;
}

async function inject(name: string, members: readonly MemberRecord[], ctl: DrillContext['ctl']): Promise<Action> {
  const find = (kind: string, role?: string) => {
    const m = members.find((x) => x.kind === kind && (role === undefined || x.role === role) && x.state === 'running');
    if (!m) throw new Error(`no running ${role ?? ''} ${kind} to drill on`.replace(/\s+/g, ' '));
    return m.name;
  };
  const roleIs = (member: string, role: string) => async () =>
    (await statusRecords(ctl)).find((m) => m.name === member)?.role === role;
  const ha = members.some((m) => m.kind === 'etcd');
  switch (name) {
    case 'primary-kill': {
      const target = find('postgres', 'primary');
      await ctl('kill', target);
      return ha
        ? {
            target,
            what: `kill -9 of ${target}`,
            waitForWrites: true,
            restore: () => ctl('start', target),
            rejoined: roleIs(target, 'replica'),
          }
        : {
            target,
            what: `kill -9 of ${target} (simple topology: read-only until \`promote\`)`,
            waitForWrites: false,
            restore: () => ctl('start', target),
            rejoined: roleIs(target, 'primary'),
          };
    }
    case 'primary-crash': {
      if (!ha) throw new Error('primary-crash needs the HA topology (Patroni); on --simple use primary-kill');
      const target = find('postgres', 'primary');
      await ctl('crash', target);
      return {
        target,
        what: `kill -9 of ${target}'s PostgreSQL, its Patroni left running`,
        waitForWrites: true,
        // Nothing to start by hand: Patroni starts the old leader's PostgreSQL again, as a replica.
        restore: async () => undefined,
        rejoined: roleIs(target, 'replica'),
      };
    }
    case 'primary-freeze': {
      const target = find('postgres', 'primary');
      await ctl('freeze', target);
      return {
        target,
        what: `SIGSTOP of ${target}`,
        waitForWrites: ha,
        restore: () => ctl('thaw', target),
        rejoined: roleIs(target, ha ? 'replica' : 'primary'),
      };
    }
    case 'replica-kill': {
      const target = find('postgres', 'replica');
      await ctl('kill', target);
      return {
        target,
        what: `kill -9 of ${target}`,
        waitForWrites: false,
        restore: () => ctl('start', target),
        rejoined: roleIs(target, 'replica'),
      };
    }
    case 'redis-kill': {
      // Under Sentinel: the master, which comes back as a replica of the one Sentinel promoted.
      const sentinel = members.some((m) => m.kind === 'sentinel');
      const target = find('redis', sentinel ? 'primary' : undefined);
      await ctl('kill', target);
      return sentinel
        ? {
            target,
            what: `kill -9 of the Redis master ${target}`,
            waitForWrites: true,
            restore: () => ctl('start', target),
            rejoined: roleIs(target, 'replica'),
          }
        : { target, what: `kill -9 of ${target}`, waitForWrites: false, restore: () => ctl('start', target) };
    }
    case 'api-kill': {
      const target = find('api');
      await ctl('kill', target);
      return { target, what: `kill -9 of ${target}`, waitForWrites: false, restore: () => ctl('start', target) };
    }
    default: {
      const apis = members.filter((m) => m.kind === 'api').map((m) => m.name);
      const restart = async () => {
        for (const api of apis) {
          await ctl('stop', api);
          await ctl('start', api);
        }
      };
      return {
        target: apis.join(', '),
        what: 'stop and start every API instance in turn',
        waitForWrites: false,
        restore: restart,
      };
    }
  }
}

async function writesBack(load: MixedLoad, since: number): Promise<void> {
  await load.until(writesBackSince(since), RECOVERY_TIMEOUT_MS);
}

/** True once a write was refused after `since` and a later one was acknowledged: writes went away and came back. */
export function writesBackSince(since: number): (outcomes: readonly Outcome[]) => boolean {
  return (outcomes) => {
    const refused = outcomes.find((o) => o.kind === 'write' && o.status !== 201 && o.at >= since);
    return refused !== undefined && outcomes.some((o) => o.kind === 'write' && o.status === 201 && o.at > refused.at);
  };
}

/** When `check` first held, polling every 250 ms; null if it did not within `timeoutMs`. */
export async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<number | null> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(250)) {
    if (await check().catch(() => false)) return Date.now();
  }
  return null;
}

/** Acknowledged writes missing on the primary now. */
async function countLost(ctl: DrillContext['ctl'], ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const primary = (await statusRecords(ctl)).find((m) => m.kind === 'postgres' && m.role === 'primary');
  if (!primary) throw new Error('no primary to count acknowledged writes against');
  const db = new Client({ connectionString: `postgres://postgres@${primary.address}/app`, query_timeout: 10_000 });
  await db.connect();
  try {
    const { rows } = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM articles WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return ids.length - rows[0]!.n;
  } finally {
    await db.end();
  }
}

/** The distinct failures, most frequent first: what a reader of the report needs to see first. */
export function failureReasons(outcomes: readonly Outcome[]): string[] {
  const counts = new Map<string, number>();
  for (const o of outcomes) {
    if (o.error === undefined) continue;
    const key = `${o.kind} ${o.status || 'no answer'}: ${o.error.replace(/\([^)]*\)/g, '(…)').slice(0, 140)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${String(n).padStart(6)} × ${k}`);
}

function report(r: Omit<DrillResult, 'report'>): string {
  const s = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
  return [
    renderTimeline(r.seconds),
    '',
    `drill ${r.drill} on ${r.target}`,
    `  requests                 ${r.requests}`,
    `  failed reads             ${r.failedReads} (anonymous), ${r.failedSignedInReads} (signed-in)`,
    `  writes acknowledged      ${r.writesAcknowledged}`,
    `  write-unavailable window ${s(r.writeUnavailableMs)} (slowest refusal ${r.slowestRefusalMs} ms)`,
    `  writes back after        ${s(r.writesBackAfterMs)}`,
    `  acknowledged writes lost ${r.writesLost} (counted on the primary)`,
    `  node back in its role    ${s(r.rejoinedAfterMs)}`,
    `  chart                    ${r.svgFile}`,
    ...(r.failures.length ? ['  failures', ...r.failures.slice(0, 8).map((f) => `    ${f}`)] : []),
  ].join('\n');
}
