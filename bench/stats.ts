/** Small statistics helpers for the benchmark figures. */

/** Nearest-rank percentile (q in 0..1) of the samples; NaN when there are none. */
export function percentile(samples: ArrayLike<number>, q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

/** Best of several rounds: the largest value when higher is better, the smallest otherwise. */
export function best(values: readonly number[], higherIsBetter: boolean): number {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return Number.NaN;
  return higherIsBetter ? Math.max(...finite) : Math.min(...finite);
}

/** Relative spread of the rounds, (max - min) / max; 0 for fewer than two rounds. */
export function spread(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length < 2) return 0;
  const max = Math.max(...finite);
  return max === 0 ? 0 : (max - Math.min(...finite)) / max;
}
