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
  const seed = opts.seed ?? 0;
  // A typed copy keeps the n × resamples inner loop on unboxed doubles (same sums, same order).
  const v = Float64Array.from(values);
  const means = new Float64Array(resamples);
  if (n * resamples <= MAX_CACHED_DRAWS) {
    const indices = resampleIndices(seed, n, resamples);
    for (let b = 0, at = 0; b < resamples; b++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += v[indices[at++]];
      means[b] = sum / n;
    }
  } else {
    const rng = new Rng(seed);
    for (let b = 0; b < resamples; b++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += v[rng.int(n)];
      means[b] = sum / n;
    }
  }
  means.sort();
  return [quantile(means, (1 - level) / 2), quantile(means, (1 + level) / 2)];
}

/** Largest draw table kept (4 MiB of indices); larger runs draw as they go. */
const MAX_CACHED_DRAWS = 1 << 20;
let lastDraws: { seed: number; n: number; resamples: number; indices: Int32Array } | null = null;

/**
 * The resample indices, b-major: `Rng(seed).int(n)` drawn n × resamples times in order. They
 * depend on (seed, n, resamples) only, and a metric reports several values over the same samples
 * and seed (selectivity: ABPC, AOPC-MoRF, AOPC-LeRF), so the last table is kept: drawing costs
 * ~5× the sums it feeds.
 */
function resampleIndices(seed: number, n: number, resamples: number): Int32Array {
  const hit = lastDraws;
  if (hit && hit.seed === seed && hit.n === n && hit.resamples === resamples) return hit.indices;
  const rng = new Rng(seed);
  const indices = new Int32Array(n * resamples);
  for (let i = 0; i < indices.length; i++) indices[i] = rng.int(n);
  lastDraws = { seed, n, resamples, indices };
  return indices;
}

/** Linear-interpolation quantile of sorted values. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const frac = pos - lo;
  return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}
