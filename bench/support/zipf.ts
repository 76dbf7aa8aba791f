/**
 * A sampler of ranks 0..n-1 with P(k) proportional to 1/(k+1)^s: a few articles get most reads, as on any site
 * with a front page. The cumulative weights are built once; each sample is a binary search.
 */
export function zipfSampler(n: number, s: number, random: () => number = Math.random): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) cdf[k] = total += 1 / Math.pow(k + 1, s);
  return () => {
    const u = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
