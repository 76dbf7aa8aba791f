import { H, legend, PAD, svgDocument, timeTicks, W } from './svg-chart';
import type { DrillSummary, Second } from './timeline';

const COLORS = { ok: '#2e9d5b', read: '#d64545', 'signed-in read': '#e08a2c', write: '#7a5bd1', p99: '#1f2937' };

/**
 * The drill's timeline as a standalone SVG: requests per second (ok above the axis, failures by kind below it),
 * p99 latency as a line on the right axis, and the moment of the failure.
 */
export function timelineSvg(title: string, seconds: readonly Second[], summary: DrillSummary): string {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const n = Math.max(1, seconds.length);
  const barW = plotW / n;
  const failedOf = (s: Second) => s.failed.read + s.failed['signed-in read'] + s.failed.write;
  const maxOk = Math.max(1, ...seconds.map((s) => s.ok));
  const maxFailed = Math.max(1, ...seconds.map(failedOf));
  // The zero line sits where ok and failed share the height in proportion to their peaks.
  const zeroY = PAD.top + (plotH * maxOk) / (maxOk + maxFailed);
  const scale = (zeroY - PAD.top) / maxOk;
  const maxP99 = Math.max(1, ...seconds.map((s) => s.p99Ms));
  const x = (i: number) => PAD.left + i * barW;
  const parts: string[] = [];
  seconds.forEach((s, i) => {
    const okH = s.ok * scale;
    parts.push(`<rect x="${x(i) + 1}" y="${zeroY - okH}" width="${barW - 2}" height="${okH}" fill="${COLORS.ok}"/>`);
    let y = zeroY;
    for (const kind of ['read', 'signed-in read', 'write'] as const) {
      const h = s.failed[kind] * scale;
      if (h > 0)
        parts.push(`<rect x="${x(i) + 1}" y="${y}" width="${barW - 2}" height="${h}" fill="${COLORS[kind]}"/>`);
      y += h;
    }
  });
  const line = seconds.map((s, i) => `${x(i) + barW / 2},${PAD.top + plotH - (s.p99Ms / maxP99) * plotH}`).join(' ');
  const zeroIndex = seconds.findIndex((s) => s.t === 0);
  const marker =
    zeroIndex >= 0
      ? `<line x1="${x(zeroIndex)}" x2="${x(zeroIndex)}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#111" stroke-dasharray="4 3"/>` +
        `<text x="${x(zeroIndex) + 4}" y="${PAD.top + 12}" font-size="11">failure injected</text>`
      : '';
  const subtitle =
    `failed reads ${summary.failedReads}, failed signed-in reads ${summary.failedSignedInReads}, ` +
    `writes unavailable ${(summary.writeUnavailableMs / 1000).toFixed(1)} s, writes acknowledged ${summary.writesAcknowledged}`;
  return svgDocument(title, subtitle, [
    ...parts,
    `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${zeroY}" y2="${zeroY}" stroke="#999"/>`,
    `<polyline points="${line}" fill="none" stroke="${COLORS.p99}" stroke-width="1.5"/>`,
    `<text x="${W - 4}" y="${PAD.top + 8}" font-size="10" text-anchor="end">p99 ${maxP99} ms</text>`,
    `<text x="4" y="${PAD.top + 8}" font-size="10">${maxOk}/s ok</text>`,
    `<text x="4" y="${PAD.top + plotH}" font-size="10">${maxFailed}/s failed</text>`,
    marker,
    timeTicks(seconds, x, barW),
    legend(
      (['ok', 'read', 'signed-in read', 'write'] as const).map((k) => [COLORS[k], k === 'ok' ? 'ok' : `failed ${k}`]),
      150,
    ),
  ]);
}
