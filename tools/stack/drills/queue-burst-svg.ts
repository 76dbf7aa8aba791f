import type { BurstSecond } from './queue-burst';
import { H, legend, PAD, svgDocument, timeTicks, W } from './svg-chart';

const COLORS = { jobs: '#2e9d5b', backlog: '#d64545', workers: '#2f6fdf' };

/**
 * The burst as a standalone SVG in the drills' style (timeline-svg.ts): jobs finished per second as bars, the
 * queue's backlog as a line on the left axis, the worker processes as a step line on the right axis.
 */
export function queueBurstSvg(title: string, seconds: readonly BurstSecond[]): string {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const barW = plotW / Math.max(1, seconds.length);
  const maxJobs = Math.max(1, ...seconds.map((s) => s.jobsPerSecond));
  const maxBacklog = Math.max(1, ...seconds.map((s) => s.backlog ?? 0));
  const maxWorkers = Math.max(1, ...seconds.map((s) => s.workers));
  const x = (i: number) => PAD.left + i * barW;
  const y = (v: number, max: number) => PAD.top + plotH - (v / max) * plotH;
  const bars = seconds.map(
    (s, i) =>
      `<rect x="${x(i) + 1}" y="${y(s.jobsPerSecond, maxJobs)}" width="${Math.max(1, barW - 2)}" height="${(s.jobsPerSecond / maxJobs) * plotH}" fill="${COLORS.jobs}" opacity="0.5"/>`,
  );
  const backlog = seconds.map((s, i) => `${x(i) + barW / 2},${y(s.backlog ?? 0, maxBacklog)}`).join(' ');
  const workers = seconds
    .flatMap((s, i) => [`${x(i)},${y(s.workers, maxWorkers)}`, `${x(i) + barW},${y(s.workers, maxWorkers)}`])
    .join(' ');
  return svgDocument(title, undefined, [
    ...bars,
    `<polyline points="${backlog}" fill="none" stroke="${COLORS.backlog}" stroke-width="1.5"/>`,
    `<polyline points="${workers}" fill="none" stroke="${COLORS.workers}" stroke-width="2"/>`,
    `<text x="4" y="${PAD.top + 8}" font-size="10">${maxBacklog} jobs</text>`,
    `<text x="${W - 4}" y="${PAD.top + 8}" font-size="10" text-anchor="end">${maxWorkers} workers</text>`,
    `<text x="4" y="${PAD.top + 22}" font-size="10">${maxJobs}/s done</text>`,
    timeTicks(seconds, x, barW),
    legend(
      [
        [COLORS.jobs, 'jobs finished per second'],
        [COLORS.backlog, 'backlog (waiting + active)'],
        [COLORS.workers, 'worker processes'],
      ],
      220,
    ),
  ]);
}
