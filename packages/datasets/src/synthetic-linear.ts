import { float32, Rng, tensor, UsageError } from '@blameboard/core';
import { checkCount } from './select.js';
import type { Dataset, DatasetInfo, LoadOptions, Split } from './types.js';

/** Seed 003: 32 POS, 32 NEG and 32 NOISE features, each ~ U(−1, 1). */
export const GROUP_SIZE = 32;
export const FEATURES = 3 * GROUP_SIZE;

export const syntheticLinearInfo: DatasetInfo = {
  id: 'synthetic-linear',
  description:
    "Seed 003's linear data: 32 POS, 32 NEG, 32 NOISE features ~ U(−1, 1); target = Σ POS_i (i+1)/32 − Σ NEG_i (i+1)/32; the coefficients are the ground truth",
  inputShape: [FEATURES],
  kind: 'regression',
  range: [-1, 1],
  outputSize: 1,
  sizes: { train: 10_000, test: 2_000 },
};

/** The true coefficients, in feature order POS_0..31, NEG_0..31, NOISE_0..31. */
export function syntheticLinearCoefficients(): Float32Array {
  const c = new Float32Array(FEATURES);
  for (let i = 0; i < GROUP_SIZE; i++) {
    c[i] = (i + 1) / GROUP_SIZE;
    c[GROUP_SIZE + i] = -(i + 1) / GROUP_SIZE;
  }
  return c;
}

/**
 * The stream of a (seed, split) pair. Train and test use different streams so a held-out set
 * never repeats training rows; samples are drawn row by row, so a smaller count is a prefix.
 */
export function splitRng(seed: number, split: Split): Rng {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`seed must be a non-negative integer, got ${seed}`);
  return new Rng(seed * 2 + (split === 'test' ? 1 : 0));
}

export function tabularOnly(id: string, opts: LoadOptions): void {
  if (opts.layout !== undefined && opts.layout !== 'flat') {
    throw new UsageError(`dataset '${id}' is tabular: layout '${opts.layout}' does not apply (use 'flat')`);
  }
}

export function loadSyntheticLinear(opts: LoadOptions = {}): Dataset {
  tabularOnly('synthetic-linear', opts);
  const split = opts.split ?? 'test';
  const n = checkCount(opts.count ?? syntheticLinearInfo.sizes[split], Number.MAX_SAFE_INTEGER);
  const rng = splitRng(opts.seed ?? 0, split);
  const coef = syntheticLinearCoefficients();
  const x = new Float32Array(n * FEATURES);
  const y = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let target = 0;
    for (let f = 0; f < FEATURES; f++) {
      const v = Math.fround(rng.uniform(-1, 1));
      x[r * FEATURES + f] = v;
      target += coef[f] * v;
    }
    y[r] = target;
  }
  return {
    id: 'synthetic-linear',
    split,
    inputs: tensor('float32', [n, FEATURES], x),
    labels: y,
    groundTruth: coef,
    mean: float32([FEATURES]),
    range: [-1, 1],
  };
}
