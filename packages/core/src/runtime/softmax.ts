import type { Tensor } from '../tensor.js';

/**
 * The one softmax: row `at … at + c − 1` of `x`, shifted by the row maximum so large logits do
 * not overflow, the exponentials summed in class order. Every probability Blameboard reports
 * (forward's `probability`, scorers, blame's prior) is exp(x_j − max) / sum from here, so the
 * same logits give the same numbers whichever path asked.
 */
function rowMaxSum(x: ArrayLike<number>, at: number, c: number): { max: number; sum: number } {
  let max = -Infinity;
  for (let j = 0; j < c; j++) max = Math.max(max, x[at + j]);
  let sum = 0;
  for (let j = 0; j < c; j++) sum += Math.exp(x[at + j] - max);
  return { max, sum };
}

/** Softmax of every row of [rows, c] logits into `out` (float32 storage rounds, float64 keeps). */
export function softmaxInto(x: ArrayLike<number>, c: number, out: Float32Array | Float64Array): void {
  for (let at = 0; at < out.length; at += c) {
    const { max, sum } = rowMaxSum(x, at, c);
    for (let j = 0; j < c; j++) out[at + j] = Math.exp(x[at + j] - max) / sum;
  }
}

/** Probability of class `k` of the row starting at `at`: one entry of `softmaxInto`, unrounded. */
export function softmaxAt(x: ArrayLike<number>, at: number, c: number, k: number): number {
  const { max, sum } = rowMaxSum(x, at, c);
  return Math.exp(x[at + k] - max) / sum;
}

/** Row-wise softmax of [N, C] float32 logits. */
export function softmaxRows(t: Tensor): Tensor {
  const [n, c] = t.shape;
  const out = new Float32Array(n * c);
  softmaxInto(t.data as Float32Array, c, out);
  return { dtype: 'float32', shape: [n, c], data: out };
}
