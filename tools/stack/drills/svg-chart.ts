/**
 * The frame every drill chart shares: size, padding, the time axis, the legend and the document around them.
 * Hand-written: a chart library would be a large dependency for a few static pictures, and an SVG is text a test
 * can read.
 */
export const W = 900;
export const H = 320;
export const PAD = { left: 56, right: 56, top: 36, bottom: 44 };

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A label under every fifth second of a per-second chart, centred on its bar. */
export function timeTicks(seconds: ReadonlyArray<{ readonly t: number }>, x: (i: number) => number, barW: number) {
  return seconds
    .map((s, i) =>
      s.t % 5 === 0
        ? `<text x="${x(i) + barW / 2}" y="${H - PAD.bottom + 16}" font-size="10" text-anchor="middle">${s.t}s</text>`
        : '',
    )
    .join('');
}

/** Colour swatches and labels along the bottom edge, `spacing` apart. */
export function legend(items: ReadonlyArray<readonly [color: string, label: string]>, spacing: number): string {
  return items
    .map(
      ([color, label], i) =>
        `<rect x="${PAD.left + i * spacing}" y="${H - 16}" width="10" height="10" fill="${color}"/><text x="${PAD.left + i * spacing + 14}" y="${H - 7}" font-size="11">${esc(label)}</text>`,
    )
    .join('');
}

/** The standalone document: white background, the title (and a subtitle), then the chart's own parts. */
export function svgDocument(title: string, subtitle: string | undefined, parts: readonly string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${PAD.left}" y="16" font-size="14" font-weight="bold">${esc(title)}</text>`,
    ...(subtitle === undefined ? [] : [`<text x="${PAD.left}" y="30" font-size="11">${esc(subtitle)}</text>`]),
    ...parts,
    '</svg>',
  ].join('\n');
}
