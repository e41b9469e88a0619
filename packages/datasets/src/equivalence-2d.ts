import { float32, tensor } from '@blameboard/core';
import { checkCount } from './select.js';
import { splitRng, tabularOnly } from './synthetic-linear.js';
import type { Dataset, DatasetInfo, LoadOptions } from './types.js';

export const equivalence2dInfo: DatasetInfo = {
  id: 'equivalence-2d',
  description:
    'x ~ U(0, 4)² for the equivalent pair relu(relu(x1) − 1 − relu(x2)) / relu(relu(x1 − 1) − relu(x2)); the label is their common value',
  inputShape: [2],
  kind: 'regression',
  range: [0, 4],
  outputSize: 1,
  sizes: { train: 1_000, test: 1_000 },
};

const relu = (v: number): number => (v > 0 ? v : 0);

/** The function both equivalent networks compute on x ≥ 0. */
export function equivalenceTarget(x1: number, x2: number): number {
  return relu(relu(x1) - 1 - relu(x2));
}

export function loadEquivalence2d(opts: LoadOptions = {}): Dataset {
  tabularOnly('equivalence-2d', opts);
  const split = opts.split ?? 'test';
  const n = checkCount(opts.count ?? equivalence2dInfo.sizes[split], Number.MAX_SAFE_INTEGER);
  const rng = splitRng(opts.seed ?? 0, split);
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    x[2 * r] = rng.uniform(0, 4);
    x[2 * r + 1] = rng.uniform(0, 4);
    y[r] = equivalenceTarget(x[2 * r], x[2 * r + 1]);
  }
  return {
    id: 'equivalence-2d',
    split,
    inputs: tensor('float32', [n, 2], x),
    labels: y,
    mean: float32([2], [2, 2]),
    range: [0, 4],
  };
}
