/** One sample of a Prometheus text exposition: `name{label="value",...} value`. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/**
 * Parses the Prometheus text format (0.0.4, what prom-client writes), keeping only the metric names in
 * `wanted` when given. Hand-written: prom-client has no parser, and the one npm parser ships no types
 * and builds every family, histograms included, where the page needs a dozen plain samples.
 * Malformed lines are skipped, never thrown: a scrape must not fail on one odd series.
 */
export function parsePrometheusText(text: string, wanted?: ReadonlySet<string>): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.charCodeAt(0) === 35 /* '#' */) continue;
    const name = NAME.exec(line)?.[0];
    if (name === undefined || (wanted !== undefined && !wanted.has(name))) continue;
    const sample = parseSample(line, name);
    if (sample !== undefined) samples.push(sample);
  }
  return samples;
}

function parseSample(line: string, name: string): Sample | undefined {
  let rest = line.slice(name.length);
  let labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    const parsed = parseLabels(rest);
    if (parsed === undefined) return undefined;
    labels = parsed.labels;
    rest = rest.slice(parsed.length);
  }
  // After the value an optional timestamp may follow (and, in OpenMetrics, an exemplar after '#').
  const valueText = rest.trim().split(/\s+/)[0];
  if (valueText === undefined || valueText === '') return undefined;
  const value = parseValue(valueText);
  return Number.isNaN(value) && valueText !== 'NaN' ? undefined : { name, labels, value };
}

function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : NaN;
}

/** `{a="1",b="x\"y"}` from the start of `text`: the labels, and how many characters they took. */
function parseLabels(text: string): { labels: Record<string, string>; length: number } | undefined {
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  let i = 1;
  for (;;) {
    while (text[i] === ' ') i++;
    if (text[i] === '}') return { labels: { ...labels }, length: i + 1 };
    const labelName = LABEL_NAME.exec(text.slice(i))?.[0];
    if (labelName === undefined) return undefined;
    i += labelName.length;
    while (text[i] === ' ') i++;
    if (text[i] !== '=') return undefined;
    i++;
    while (text[i] === ' ') i++;
    if (text[i] !== '"') return undefined;
    i++;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) return undefined;
      if (c === '"') break;
      if (c === '\\') {
        const next = text[i + 1];
        value += next === 'n' ? '\n' : (next ?? '');
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    labels[labelName] = value;
    i++;
    while (text[i] === ' ') i++;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') return undefined;
  }
}

/** The sum of every sample named `name` whose labels pass `where`; undefined when there is none. */
export function sumOf(
  samples: readonly Sample[],
  name: string,
  where: (labels: Sample['labels']) => boolean = () => true,
): number | undefined {
  let sum: number | undefined;
  for (const s of samples) if (s.name === name && where(s.labels)) sum = (sum ?? 0) + s.value;
  return sum;
}
