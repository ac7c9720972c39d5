// Order statistics for benchmark samples: median, p10/p90, quartiles.

export interface Summary {
  n: number;
  median: number;
  p10: number;
  p90: number;
  q1: number;
  q3: number;
  min: number;
  max: number;
  mean: number;
}

/** Quantile of an ascending array, linear interpolation between closest ranks. */
export function quantile(sorted: readonly number[], q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(xs: readonly number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : Number.NaN;
  return {
    n: s.length,
    median: quantile(s, 0.5),
    p10: quantile(s, 0.1),
    p90: quantile(s, 0.9),
    q1: quantile(s, 0.25),
    q3: quantile(s, 0.75),
    min: s.length ? s[0] : Number.NaN,
    max: s.length ? s[s.length - 1] : Number.NaN,
    mean,
  };
}

/** Median of the per-pair ratios a[i]/b[i] (pairs where either side is missing are dropped). */
export function medianRatio(a: readonly (number | undefined)[], b: readonly (number | undefined)[]): number {
  const r: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined || !(y > 0)) continue;
    r.push(x / y);
  }
  return summarize(r).median;
}

/** Round for JSON: keeps documents small and diffable. */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
