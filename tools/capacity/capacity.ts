/**
 * npm run capacity -- --dau 10000000 [--requests-per-user 50] [--peak 3] [--utilization 0.6] [--db-cores 8]
 *
 * Recomputes docs/capacity.md's model from the latest `npm run loadtest` (docs/capacity/loadtest.json): the
 * cost of a request on each tier, the machine's predicted saturation point against the measured one, and what
 * the given number of daily active users needs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../stack/node-programs';
import { DEFAULT_ASSUMPTIONS, fitCpuLines, type Measurements, plan, predictedSaturation } from './capacity-model';

const { values } = parseArgs({
  options: {
    dau: { type: 'string', default: '1000000' },
    'requests-per-user': { type: 'string', default: String(DEFAULT_ASSUMPTIONS.requestsPerUserPerDay) },
    peak: { type: 'string', default: String(DEFAULT_ASSUMPTIONS.peakToAverage) },
    utilization: { type: 'string', default: String(DEFAULT_ASSUMPTIONS.targetUtilization) },
    'db-cores': { type: 'string', default: String(DEFAULT_ASSUMPTIONS.coresPerDatabaseNode) },
    measurements: { type: 'string', default: join(REPO_ROOT, 'docs', 'capacity', 'loadtest.json') },
  },
});

function positive(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} must be a positive number, got "${raw}"`);
    process.exit(2);
  }
  return n;
}

const m = JSON.parse(readFileSync(values.measurements, 'utf8')) as Measurements;
const lines = fitCpuLines(m.steps);
const served = m.steps.filter((s) => s.passed);
const redisPerRequest = served.reduce((a, s) => a + s.redisCommandsPerRequest, 0) / served.length;
const lookups = served.reduce((a, s) => a + s.cache.hit + s.cache.miss + s.cache.bypass, 0);
const hits = served.reduce((a, s) => a + s.cache.hit, 0);

console.log(`measurements: ${values.measurements} (${m.measuredAt}, ${m.machine.cpus} CPUs, Node ${m.machine.node})`);
console.log(
  `mix: ${m.mix.articleRead * 100}% article reads, ${m.mix.listPage * 100}% list pages, ${m.mix.signedInRead * 100}% signed-in reads, ${m.mix.write * 100}% writes; API cache hit ratio ${((hits / Math.max(1, lookups)) * 100).toFixed(1)}%\n`,
);
console.log('CPU by kind of process: least squares over the steps served in full, and per request at the busiest one:');
console.log(
  '| kind | µs per extra request (slope) | µs per second not growing with load (intercept) | µs per request, busiest step |',
);
console.log('|---|---|---|---|');
const busiestStep = served.reduce((a, b) => (b.achieved > a.achieved ? b : a));
for (const [kind, line] of [...lines].sort((a, b) => b[1].usPerRequest - a[1].usPerRequest))
  console.log(
    `| ${kind} | ${line.usPerRequest.toFixed(0)} | ${line.fixedUsPerSecond.toFixed(0)} | ${busiestStep.cpuUsPerRequest[kind] ?? 0} |`,
  );
console.log(`Redis commands per request: ${redisPerRequest.toFixed(2)}\n`);

const predicted = predictedSaturation(lines, m.machine.cpus);
const measured = m.saturation?.achieved;
console.log(`this machine (${m.machine.cpus} cores, everything on it):`);
console.log(`  predicted saturation: ${predicted.toFixed(0)} req/s (all cores busy)`);
if (measured) {
  const error = (predicted - measured) / measured;
  console.log(
    `  measured saturation:  ${measured} req/s (the most the load test got with p99 <= ${m.p99BoundMs} ms and no errors)`,
  );
  console.log(
    `  model vs measured:    ${(error * 100).toFixed(1)}% (${Math.abs(error) <= 0.25 ? 'within' : 'NOT within'} ±25%)\n`,
  );
}

const assumptions = {
  ...DEFAULT_ASSUMPTIONS,
  dau: positive('dau', values.dau),
  requestsPerUserPerDay: positive('requests-per-user', values['requests-per-user']),
  peakToAverage: positive('peak', values.peak),
  targetUtilization: positive('utilization', values.utilization),
  coresPerDatabaseNode: positive('db-cores', values['db-cores']),
};
// Sized with the costs of the busiest step served in full, where the processes ran hot, as a sized fleet does.
const busiest = busiestStep;
const p = plan(new Map(Object.entries(busiest.cpuUsPerRequest)), redisPerRequest, assumptions);
console.log(
  `${assumptions.dau.toLocaleString('en')} daily active users x ${assumptions.requestsPerUserPerDay} requests = ` +
    `${p.averageRequestsPerSecond.toFixed(0)} req/s on average, ${p.peakRequestsPerSecond.toFixed(0)} at peak (x${assumptions.peakToAverage}); ` +
    `tiers sized for ${assumptions.targetUtilization * 100}% CPU at peak, with the CPU per request measured at ${busiest.achieved} req/s:`,
);
console.log('| tier | cores at peak | instances | |');
console.log('|---|---|---|---|');
for (const t of p.tiers) console.log(`| ${t.tier} | ${t.cores.toFixed(1)} | ${t.instances} | ${t.note} |`);
console.log(
  `Redis: ${p.redisOpsPerSecond.toFixed(0)} commands/s at peak on the master; memory about ${p.redisMemoryGiB.toFixed(1)} GiB ` +
    `(${assumptions.liveSessionsPerDau} live sessions per daily user at ${assumptions.sessionBytes} B, ${assumptions.hotArticles.toLocaleString('en')} cached articles at ${assumptions.articleBytes} B)`,
);
console.log(`first to hit a ceiling it cannot scale out of: ${p.firstToSaturate}`);
