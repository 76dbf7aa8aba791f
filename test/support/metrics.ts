/** The value of one Prometheus series in a /metrics text, 0 when absent; `labels` must all match. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const line = text.split('\n').find((l) => {
    if (!l.startsWith(`${name}{`) && !l.startsWith(`${name} `)) return false;
    return Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`));
  });
  return line ? Number(line.split(' ').at(-1)) : 0;
}
