import { readFileSync } from 'node:fs';

/** A request-path component, recognised by the script URL of a stack frame. */
export interface Component {
  readonly name: string;
  readonly match: RegExp;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

// Module loading (startup, lazy requires) is not request work.
const STARTUP = /^(executeUserEntryPoint|Module\._load|Module\._compile|compileSourceTextModule)$/;

// The request pipeline itself: a component's frame above one of these only called on into the next step.
const PIPELINE = /node_modules\/(fastify|find-my-way|@nestjs\/core|@nestjs\/platform-fastify|rxjs)\/|^node:_http/;

/**
 * Shares of a V8 CPU profile (`node --cpu-prof`) by component. Each sample goes to the first component frame
 * found walking up from the sampled function, unless the walk meets the request pipeline (Fastify, Nest,
 * node:http) first: hooks call the next hook, and the last one the response write, from inside themselves,
 * and that work is not theirs. Idle and startup samples are left out; GC is its own row.
 */
export function cpuProfileBreakdown(
  file: string,
  components: readonly Component[],
): Array<{ name: string; share: number }> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const time = new Map<number, number>();
  profile.samples.forEach((id, i) => time.set(id, (time.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const totals = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of time) {
    const leaf = byId.get(id)!.callFrame.functionName;
    if (leaf === '(idle)' || leaf === '(program)') continue;
    let name: string | undefined = leaf === '(garbage collector)' ? 'garbage collection' : undefined;
    let settled = name !== undefined;
    let startup = false;
    for (let p: number | undefined = id; p !== undefined; p = parent.get(p)) {
      const frame = byId.get(p)!.callFrame;
      if (STARTUP.test(frame.functionName)) startup = true;
      if (settled) continue;
      name = components.find((c) => c.match.test(frame.url))?.name;
      settled = name !== undefined || PIPELINE.test(frame.url);
    }
    if (startup) continue;
    name ??= 'everything else (Node HTTP, Fastify, Nest core, rxjs, syscalls)';
    busy += us;
    totals.set(name, (totals.get(name) ?? 0) + us);
  }
  return [...totals].map(([name, us]) => ({ name, share: us / busy })).sort((a, b) => b.share - a.share);
}
