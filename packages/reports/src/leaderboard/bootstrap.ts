import { Rng } from '@blameboard/core';
import { quantile } from '@blameboard/metrics';

/** Resamples per bootstrap (SPEC §7). */
export const BOOTSTRAP_RESAMPLES = 1000;

/**
 * One table of resampled sample indices shared by every row and column of a leaderboard, so that
 * the bootstrap is *paired*: resample b draws the same samples for every method configuration,
 * and differences between rows (ranks, rank intervals) are compared on equal footing.
 * b-major: entry b·n + i is the i-th draw of resample b, `Rng(seed).int(n)` in order.
 */
export function pairedIndices(n: number, seed: number, resamples = BOOTSTRAP_RESAMPLES): Int32Array {
  const rng = new Rng(seed);
  const table = new Int32Array(n * resamples);
  for (let i = 0; i < table.length; i++) table[i] = rng.int(n);
  return table;
}

/**
 * The mean of each resample over the drawn samples that are valid (non-null); NaN for a resample
 * that drew none.
 */
export function resampleMeans(perSample: readonly (number | null)[], table: Int32Array, resamples = BOOTSTRAP_RESAMPLES): Float64Array {
  const n = perSample.length;
  const values = new Float64Array(n);
  const valid = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = perSample[i];
    if (v !== null && Number.isFinite(v)) {
      values[i] = v;
      valid[i] = 1;
    }
  }
  const means = new Float64Array(resamples);
  for (let b = 0, at = 0; b < resamples; b++) {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < n; i++, at++) {
      const j = table[at];
      if (valid[j]) {
        sum += values[j];
        count++;
      }
    }
    means[b] = count ? sum / count : NaN;
  }
  return means;
}

/** Percentile interval (numpy's linear interpolation) of the finite resample means. */
export function percentileInterval(means: Float64Array, level = 0.95): [number, number] | null {
  const finite = means.filter((m) => Number.isFinite(m)).sort();
  if (finite.length === 0) return null;
  return [quantile(finite, (1 - level) / 2), quantile(finite, (1 + level) / 2)];
}
