import { Rng, sizeOf, UsageError, type ParamSpec, type Tensor } from '@blameboard/core';
import { geometryShape } from './image-shape.js';
import type { DataContext } from './types.js';

export const BASELINE_KINDS = ['zero', 'mean', 'uniform', 'blur'] as const;
export type BaselineSpec = (typeof BASELINE_KINDS)[number] | number;

export const baselineParam = (what = 'the reference input x′'): ParamSpec => ({
  name: 'baseline',
  type: 'string',
  description: `${what}: zero, mean (dataset mean), uniform (seeded noise in the input range, one draw per feature), blur (Gaussian, σ = blurSigma pixels) or a number`,
  default: 'zero',
  choices: [...BASELINE_KINDS],
  allowNumber: true,
  min: -FLOAT32_MAX,
  max: FLOAT32_MAX,
});

/** σ of every Gaussian blur (a baseline of a method, a fill of a metric): one spec, one range. */
export const blurSigmaParam: ParamSpec = {
  name: 'blurSigma',
  type: 'number',
  description: 'σ of the Gaussian blur (baseline or fill), in pixels (features for vectors), at most 64',
  default: 1,
  min: 0,
  max: 64,
};

export const seedParam: ParamSpec = { name: 'seed', type: 'integer', description: 'seed of every random draw (0 to 2³² − 1)', default: 0, min: 0, max: 2 ** 32 - 1 };

/** A constant baseline or fill is an input value: any finite float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

export interface BaselineOptions {
  data?: DataContext;
  /** Seed of the `uniform` draw; default: `seedParam`'s. */
  seed?: number;
  /** σ of the `blur` baseline; default: `blurSigmaParam`'s. */
  blurSigma?: number;
}

/** The baseline for every sample, shaped like `inputs` ([N, …]). */
export function makeBaseline(spec: BaselineSpec, inputs: Tensor, opts: BaselineOptions = {}): Tensor {
  const n = inputs.shape[0];
  const sampleShape = inputs.shape.slice(1);
  const per = sizeOf(sampleShape);
  const out = new Float32Array(n * per);
  const x = inputs.data as Float32Array;
  const tile = (row: Float32Array) => {
    for (let i = 0; i < n; i++) out.set(row, i * per);
  };
  if (typeof spec === 'number') {
    out.fill(spec);
  } else if (spec === 'zero') {
    // already zero
  } else if (spec === 'mean') {
    const mean = opts.data?.mean;
    if (!mean) throw new UsageError("baseline 'mean' needs the dataset mean; pass a dataset or choose another baseline");
    if (mean.data.length !== per) throw new UsageError(`the dataset mean has ${mean.data.length} values but a sample has ${per}`);
    tile(Float32Array.from(mean.data as Float32Array));
  } else if (spec === 'uniform') {
    const [low, high] = opts.data?.range ?? valueRange(x);
    const row = new Float32Array(per);
    new Rng(opts.seed ?? (seedParam.default as number)).fillUniform(row, low, high);
    tile(row);
  } else if (spec === 'blur') {
    const geometry = geometryShape(sampleShape, opts.data?.imageShape);
    for (let i = 0; i < n; i++) out.set(gaussianBlur(x.subarray(i * per, (i + 1) * per), geometry, opts.blurSigma ?? (blurSigmaParam.default as number)), i * per);
  } else {
    throw new UsageError(`unknown baseline '${String(spec)}'; known: ${BASELINE_KINDS.join(', ')} or a number`);
  }
  return { dtype: 'float32', shape: [...inputs.shape], data: out };
}

function valueRange(x: Float32Array): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (const v of x) {
    if (v < low) low = v;
    if (v > high) high = v;
  }
  return [low, high];
}

/**
 * Gaussian blur of one sample over its spatial axes — the last two for images ([C, H, W] or
 * [H, W]), the only one for vectors — with reflected borders (scipy's gaussian_filter default,
 * as Quantus uses) and a kernel truncated at 4σ.
 */
export function gaussianBlur(sample: Float32Array, shape: readonly number[], sigma: number): Float32Array {
  if (sigma <= 0) return Float32Array.from(sample);
  const axes = shape.length >= 2 ? [shape.length - 2, shape.length - 1] : [0];
  const radius = Math.max(1, Math.ceil(4 * sigma));
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, k) => Math.exp(-((k - radius) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((s, v) => s + v, 0);
  const weights = kernel.map((v) => v / total);
  let current = Float64Array.from(sample);
  for (const axis of axes) {
    const len = shape[axis];
    const stride = sizeOf(shape.slice(axis + 1));
    const next = new Float64Array(current.length);
    for (let flat = 0; flat < current.length; flat++) {
      const pos = Math.floor(flat / stride) % len;
      const base = flat - pos * stride;
      let acc = 0;
      for (let k = -radius; k <= radius; k++) acc += weights[k + radius] * current[base + reflect(pos + k, len) * stride];
      next[flat] = acc;
    }
    current = next;
  }
  return Float32Array.from(current);
}

/** scipy 'reflect' (d c b a | a b c d | d c b a), repeated for offsets beyond one period. */
function reflect(i: number, len: number): number {
  if (len === 1) return 0;
  const period = 2 * len;
  let m = ((i % period) + period) % period;
  if (m >= len) m = period - 1 - m;
  return m;
}

/** Reads the resolved `baseline` parameter's value (see `baselineParam`) as a spec. */
export function baselineSpec(value: unknown): BaselineSpec {
  return typeof value === 'number' ? value : (String(value) as BaselineSpec);
}
