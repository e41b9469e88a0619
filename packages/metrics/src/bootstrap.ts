import { Rng } from '@blameboard/core';

export interface BootstrapOptions {
  seed?: number;
  resamples?: number;
  level?: number;
}

/**
 * Percentile bootstrap interval of the mean (SPEC §7: seeded, 1000 resamples, 95%).
 * Resample b draws n indices with `Rng(seed).int(n)` in order; the bounds are the
 * (1−level)/2 and (1+level)/2 quantiles of the sorted resample means, linearly interpolated at
 * position q·(B−1) (numpy's default), so another implementation with the same RNG reproduces it.
 */
export function bootstrapCi(values: readonly number[], opts: BootstrapOptions = {}): [number, number] | null {
  const n = values.length;
  if (n === 0) return null;
  const resamples = opts.resamples ?? 1000;
  const level = opts.level ?? 0.95;
  const rng = new Rng(opts.seed ?? 0);
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[rng.int(n)];
    means[b] = sum / n;
  }
  means.sort();
  return [quantile(means, (1 - level) / 2), quantile(means, (1 + level) / 2)];
}

/** Linear-interpolation quantile of sorted values. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const frac = pos - lo;
  return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}
