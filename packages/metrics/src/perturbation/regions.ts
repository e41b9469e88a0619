import { sizeOf } from '@blameboard/core';

/**
 * The perturbation grid of SPEC §4: non-overlapping patch×patch squares over the last two
 * (spatial) axes, from the top-left, edge regions smaller, every leading (channel) axis taken
 * together. A per-sample shape of rank 1 is a feature vector: regions are runs of `patch`
 * consecutive features. Regions are numbered row-major over the grid.
 */
export interface RegionGrid {
  /** Number of regions R. */
  count: number;
  /** Features per sample. */
  featureCount: number;
  /** Region index of every feature of a sample (C order). */
  regionOf: Int32Array;
  /** Feature indices of every region, ascending. */
  members: Int32Array[];
}

/** True when a per-sample shape is laid out as an image (channels…, height, width). */
export function isImageShape(sampleShape: readonly number[]): boolean {
  return sampleShape.length >= 2;
}

export function regionGrid(sampleShape: readonly number[], patch: number): RegionGrid {
  if (!Number.isInteger(patch) || patch < 1) throw new Error(`patch must be a positive integer, got ${patch}`);
  const featureCount = sizeOf(sampleShape);
  const regionOf = new Int32Array(featureCount);
  let count: number;
  if (!isImageShape(sampleShape)) {
    count = Math.ceil(featureCount / patch);
    for (let i = 0; i < featureCount; i++) regionOf[i] = Math.floor(i / patch);
  } else {
    const h = sampleShape[sampleShape.length - 2];
    const w = sampleShape[sampleShape.length - 1];
    const plane = h * w;
    const cols = Math.ceil(w / patch);
    count = Math.ceil(h / patch) * cols;
    for (let i = 0; i < featureCount; i++) {
      const p = i % plane;
      const row = Math.floor(p / w);
      const col = p % w;
      regionOf[i] = Math.floor(row / patch) * cols + Math.floor(col / patch);
    }
  }
  const sizes = new Int32Array(count);
  for (let i = 0; i < featureCount; i++) sizes[regionOf[i]]++;
  const members = Array.from(sizes, (s) => new Int32Array(s));
  const filled = new Int32Array(count);
  for (let i = 0; i < featureCount; i++) {
    const r = regionOf[i];
    members[r][filled[r]++] = i;
  }
  return { count, featureCount, regionOf, members };
}

/**
 * Sum of the attribution inside each region (of |R| with `abs`), for the sample starting at
 * `offset` of `attr`. Summed in float64 in feature order.
 */
export function regionScores(grid: RegionGrid, attr: ArrayLike<number>, offset: number, abs: boolean): Float64Array {
  const scores = new Float64Array(grid.count);
  for (let i = 0; i < grid.featureCount; i++) {
    const v = attr[offset + i];
    scores[grid.regionOf[i]] += abs ? Math.abs(v) : v;
  }
  return scores;
}

/** Regions up to which morfOrder sorts by insertion (selectivity sorts one list per sample). */
const INSERTION_SORT_MAX = 64;

/** Most-relevant-first order: decreasing score, ties by row-major region index. */
export function morfOrder(scores: ArrayLike<number>): Int32Array {
  const n = scores.length;
  let finite = true;
  for (let i = 0; i < n && finite; i++) finite = Number.isFinite(scores[i]);
  if (n > INSERTION_SORT_MAX || !finite) {
    const idx = Array.from({ length: n }, (_, i) => i);
    idx.sort((a, b) => (scores[b] - scores[a]) || a - b);
    return Int32Array.from(idx);
  }
  // Finite scores make the order total, so any correct sort gives the same permutation.
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    let j = i - 1;
    while (j >= 0 && scores[order[j]] < s) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = i;
  }
  return order;
}

/**
 * Regions filled after each stage k = 0…L: n_k = round(k·fraction·R/L), rounding halves up.
 * Computed as k·fraction·R/L in float64 in that order.
 */
export function stageCounts(regionCount: number, steps: number, fraction: number): Int32Array {
  const counts = new Int32Array(steps + 1);
  for (let k = 0; k <= steps; k++) {
    const n = Math.floor((k * fraction * regionCount) / steps + 0.5);
    counts[k] = Math.min(regionCount, Math.max(0, n));
  }
  return counts;
}
