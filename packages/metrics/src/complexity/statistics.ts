/**
 * Gini index of |values| (Hurley & Rickard 2009, as Quantus' Sparseness):
 * Σ_i (2i − n − 1)·v_(i) / (n·Σ v) over the magnitudes sorted ascending, i = 1…n.
 * 0 for a flat map, → 1 when one feature holds everything; NaN for an all-zero map (no mass to
 * be concentrated), which the caller reports as invalid.
 */
export function gini(values: ArrayLike<number>): number {
  const n = values.length;
  const v = Float64Array.from(values as ArrayLike<number>, Math.abs).sort();
  let total = 0;
  let weighted = 0;
  for (let i = 0; i < n; i++) {
    total += v[i];
    weighted += (2 * (i + 1) - n - 1) * v[i];
  }
  return total === 0 ? NaN : weighted / (n * total);
}

/**
 * Shannon entropy (natural log) of p = |values|/Σ|values| (Quantus' Complexity), with 0·log 0 = 0.
 * NaN for an all-zero map.
 */
export function entropy(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += Math.abs(values[i]);
  if (total === 0) return NaN;
  let h = 0;
  for (let i = 0; i < values.length; i++) {
    const p = Math.abs(values[i]) / total;
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}
