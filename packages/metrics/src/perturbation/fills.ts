import type { Tensor } from '@blameboard/core';
import { Rng, sizeOf, UsageError } from '@blameboard/core';
import { blurSigmaParam, gaussianBlur, geometryShape } from '@blameboard/methods';

/** A perturbation fill or baseline (SPEC §3/§4): `zero`, `mean`, `uniform`, `blur` or a number. */
export type FillKind = 'zero' | 'mean' | 'uniform' | 'blur' | number;

export const FILL_CHOICES = ['zero', 'mean', 'uniform', 'blur'] as const;

export interface FillContext {
  /** Per-sample shape, e.g. [1, 28, 28] or [96]. */
  sampleShape: readonly number[];
  /** Image layout of a flattened sample (`DataContext.imageShape`): the geometry `blur` follows. */
  imageShape?: readonly number[];
  /** Dataset mean, per-sample shape (for `mean`). */
  mean?: Tensor;
  /** Input range (for `uniform`); default: min and max of `inputs`. */
  range?: [number, number];
  /** The inputs being perturbed [N, …] (range fallback). */
  inputs?: Tensor;
  seed: number;
  /** σ in pixels (features for vectors) of the Gaussian `blur`; default: `blurSigmaParam`'s. */
  blurSigma?: number;
  /** Who asks, for error messages. */
  owner?: string;
}

/** The values to put in place of a sample's features: fill(x) has the sample's size. */
export type Fill = (sample: Float32Array) => Float32Array;

/**
 * Builds a fill. `uniform` draws once per feature (not per region, not per sample): feature i
 * takes the i-th draw of `Rng(seed).uniform(low, high)`, so every sample sees the same noise and a
 * sample's score does not depend on which other samples run with it. `blur` is the sample itself
 * blurred, so it differs per sample.
 */
export function makeFill(kind: FillKind | string, ctx: FillContext): Fill {
  const d = sizeOf(ctx.sampleShape);
  const owner = ctx.owner ?? 'fill';
  if (typeof kind === 'number') {
    const c = new Float32Array(d).fill(kind);
    return () => c;
  }
  switch (kind) {
    case 'zero': {
      const c = new Float32Array(d);
      return () => c;
    }
    case 'mean': {
      if (!ctx.mean) throw new UsageError(`${owner}: 'mean' needs the dataset mean; pass a dataset or another fill`);
      if (ctx.mean.data.length !== d) {
        throw new UsageError(`${owner}: the dataset mean has ${ctx.mean.data.length} values but a sample has ${d}`);
      }
      const c = Float32Array.from(ctx.mean.data as Float32Array);
      return () => c;
    }
    case 'uniform': {
      const [low, high] = ctx.range ?? inputRange(ctx.inputs, owner);
      const c = new Float32Array(d);
      const rng = new Rng(ctx.seed);
      for (let i = 0; i < d; i++) c[i] = rng.uniform(low, high);
      return () => c;
    }
    case 'blur': {
      const sigma = ctx.blurSigma ?? (blurSigmaParam.default as number);
      const geometry = geometryShape(ctx.sampleShape, ctx.imageShape);
      return (x) => gaussianBlur(x, geometry, sigma);
    }
    default:
      throw new UsageError(`${owner}: unknown fill '${kind}'; known fills: ${FILL_CHOICES.join(', ')} or a number`);
  }
}

/** [min, max] over all inputs: the input range when the dataset does not state one. */
export function inputRange(inputs: Tensor | undefined, owner = 'fill'): [number, number] {
  if (!inputs || inputs.data.length === 0) throw new UsageError(`${owner}: 'uniform' needs the input range`);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of inputs.data as Float32Array) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

// One blur for fills and baselines, so a blur fill equals the methods' blur baseline exactly.
export { gaussianBlur };

/** The whole-batch baseline x′ for a fill kind (every sample filled). */
export function fillBatch(kind: FillKind | string, inputs: Tensor, ctx: Omit<FillContext, 'sampleShape' | 'inputs'>): Tensor {
  const sampleShape = inputs.shape.slice(1);
  const d = sizeOf(sampleShape);
  const fill = makeFill(kind, { ...ctx, sampleShape, inputs });
  const out = new Float32Array(inputs.data.length);
  const x = inputs.data as Float32Array;
  for (let n = 0; n < inputs.shape[0]; n++) out.set(fill(x.subarray(n * d, (n + 1) * d)), n * d);
  return { dtype: 'float32', shape: [...inputs.shape], data: out };
}
