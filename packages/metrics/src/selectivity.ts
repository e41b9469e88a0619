import type { ParamSpec, Tensor } from '@blameboard/core';
import { tensor } from '@blameboard/core';
import { aggregate, InvalidSamples, markNonFiniteAttributions } from './aggregate.js';
import { FILL_CHOICES, makeFill, type Fill } from './fills.js';
import { modelScorer, type OutputKind, type TargetScorer } from './model-output.js';
import { isImageShape, morfOrder, regionGrid, regionScores, stageCounts } from './regions.js';
import { DEFAULT_BATCH_SIZE, requireAttributions, sampleShapeOf, sampleView } from './request.js';
import type { Metric, MetricRequest, MetricResult, MetricValue } from './types.js';

export type SelectivityOrder = 'both' | 'morf' | 'lerf';

export interface SelectivityOptions {
  patch: number;
  steps: number;
  fraction: number;
  order: SelectivityOrder;
  abs: boolean;
  /** Perturbed rows built before each scorer call (memory bound); at least one sample's rows. */
  maxRows?: number;
}

/** y_k per sample (k = 0…L) for each order computed; null for samples skipped as invalid. */
export interface SelectivityCurves {
  morf: (Float64Array | null)[];
  lerf: (Float64Array | null)[];
}

/** Default patch: 4 px squares for images, single features for vectors (SPEC §4). */
export function defaultPatch(sampleShape: readonly number[]): number {
  return isImageShape(sampleShape) ? 4 : 1;
}

/**
 * Pixel-flipping curves. Per sample the distinct stage inputs (stage 0 = x shared by both
 * orders, the fully filled input shared when both orders reach it) are built incrementally —
 * each from the previous one by filling the newly added regions — and scored in batches of at
 * most `maxRows` rows, so memory is bounded and no stage is run twice.
 */
export async function selectivityCurves(
  inputs: Tensor,
  targets: Int32Array,
  attributions: Tensor,
  fill: Fill,
  opts: SelectivityOptions,
  score: TargetScorer,
  skip: (n: number) => boolean = () => false,
): Promise<SelectivityCurves> {
  const n = inputs.shape[0];
  const shape = sampleShapeOf(inputs);
  const grid = regionGrid(shape, opts.patch);
  const d = grid.featureCount;
  const counts = stageCounts(grid.count, opts.steps, opts.fraction);
  const orders: ('morf' | 'lerf')[] = opts.order === 'both' ? ['morf', 'lerf'] : [opts.order];

  // Row plan (identical for every sample): row 0 = x, then each order's distinct positive counts.
  const plan = new Map<string, number>();
  let rowsPerSample = 1;
  const key = (order: string, count: number) => (count === 0 ? '0' : count === grid.count ? 'all' : `${order}:${count}`);
  plan.set('0', 0);
  for (const order of orders) {
    for (const c of counts) {
      if (!plan.has(key(order, c))) plan.set(key(order, c), rowsPerSample++);
    }
  }

  const curves: SelectivityCurves = { morf: new Array(n).fill(null), lerf: new Array(n).fill(null) };
  const active = Array.from({ length: n }, (_, i) => i).filter((i) => !skip(i));
  const perChunk = Math.max(1, Math.floor((opts.maxRows ?? 1024) / rowsPerSample));
  // Chunk i+1 is built while onnxruntime scores chunk i (at most two chunks alive).
  let inflight: Promise<void> | null = null;
  for (let start = 0; start < active.length; start += perChunk) {
    const chunk = active.slice(start, start + perChunk);
    const rows = new Float32Array(chunk.length * rowsPerSample * d);
    const rowTargets = new Int32Array(chunk.length * rowsPerSample);
    chunk.forEach((s, c) => {
      const base = c * rowsPerSample;
      rowTargets.fill(targets[s], base, base + rowsPerSample);
      const x = sampleView(inputs, s);
      rows.set(x, base * d);
      const fillValues = fill(x);
      const scores = regionScores(grid, attributions.data as Float32Array, s * d, opts.abs);
      const morf = morfOrder(scores);
      for (const order of orders) {
        const regionOrder = order === 'morf' ? morf : morf.slice().reverse();
        const current = Float32Array.from(x);
        let filled = 0;
        for (const target of counts) {
          for (; filled < target; filled++) {
            for (const f of grid.members[regionOrder[filled]]) current[f] = fillValues[f];
          }
          rows.set(current, (base + plan.get(key(order, target))!) * d);
        }
      }
    });
    const scoring = score(tensor('float32', [chunk.length * rowsPerSample, ...shape], rows), rowTargets).then((y) => {
      chunk.forEach((s, c) => {
        const base = c * rowsPerSample;
        for (const order of orders) {
          curves[order][s] = Float64Array.from(counts, (count) => y[base + plan.get(key(order, count))!]);
        }
      });
    });
    // Marks a failure of this chunk handled while the previous one is awaited; `await` still throws it.
    scoring.catch(() => undefined);
    if (inflight) await inflight;
    inflight = scoring;
  }
  if (inflight) await inflight;
  return curves;
}

/** ABPC: (1/(L+1)) Σ_k (y_k^LeRF − y_k^MoRF). */
function abpc(morf: Float64Array, lerf: Float64Array): number {
  let s = 0;
  for (let k = 0; k < morf.length; k++) s += lerf[k] - morf[k];
  return s / morf.length;
}

/** AOPC: (1/(L+1)) Σ_k (y_0 − y_k). */
function aopc(curve: Float64Array): number {
  let s = 0;
  for (let k = 0; k < curve.length; k++) s += curve[0] - curve[k];
  return s / curve.length;
}

const params: ParamSpec[] = [
  { name: 'patch', type: 'integer', min: 1, description: 'side of the square regions in pixels (default 4 for images, 1 feature for vectors)' },
  { name: 'steps', type: 'integer', default: 32, min: 1, description: 'perturbation stages L after stage 0' },
  { name: 'fraction', type: 'number', default: 1, min: 0, max: 1, description: 'share of the regions filled by the last stage' },
  { name: 'order', type: 'string', default: 'both', choices: ['both', 'morf', 'lerf'], description: 'most- and/or least-relevant-first' },
  {
    name: 'fill',
    type: 'string',
    default: 'uniform',
    choices: [...FILL_CHOICES],
    allowNumber: true,
    description: 'what replaces a region: zero, dataset mean, seeded uniform noise in the input range, blur, or a number',
  },
  { name: 'blurSigma', type: 'number', default: 1, min: 0, description: 'σ of the Gaussian blur fill, in pixels' },
  { name: 'output', type: 'string', default: 'probability', choices: ['probability', 'logit'], description: 'which output of the target the curves follow' },
  { name: 'abs', type: 'boolean', default: false, description: 'score regions by the sum of |R| instead of R' },
];

export const selectivity: Metric = {
  id: 'selectivity',
  description:
    'pixel flipping / region perturbation: fill regions most- and least-relevant first and follow the target output; ABPC (area between the curves), AOPC',
  needs: 'attributions',
  params,
  async evaluate(request: MetricRequest): Promise<MetricResult> {
    const attributions = requireAttributions(request, 'selectivity');
    const p = request.params;
    const seed = request.seed ?? 0;
    const shape = sampleShapeOf(request.inputs);
    const patch = (p.patch as number | undefined) ?? defaultPatch(shape);
    const invalid = new InvalidSamples();
    markNonFiniteAttributions(attributions, invalid);
    const fill = makeFill((p.fill ?? 'uniform') as string | number, {
      sampleShape: shape,
      mean: request.data?.mean,
      range: request.data?.range,
      inputs: request.inputs,
      seed,
      blurSigma: p.blurSigma as number | undefined,
      owner: 'selectivity fill',
    });
    const opts: SelectivityOptions = {
      patch,
      steps: (p.steps as number | undefined) ?? 32,
      fraction: (p.fraction as number | undefined) ?? 1,
      order: (p.order as SelectivityOrder | undefined) ?? 'both',
      abs: (p.abs as boolean | undefined) ?? false,
      maxRows: 4 * (request.batchSize ?? DEFAULT_BATCH_SIZE),
    };
    const output = (p.output as OutputKind | undefined) ?? 'probability';
    const scorer = modelScorer(request.model, output, request.batchSize ?? DEFAULT_BATCH_SIZE);
    const curves = await selectivityCurves(request.inputs, request.targets, attributions, fill, opts, scorer, (i) => invalid.has(i));
    return selectivityResult(curves, opts.order, { ...p, patch }, seed, invalid, request.inputs.shape[0]);
  },
};

export function selectivityResult(
  curves: SelectivityCurves,
  order: SelectivityOrder,
  params: Record<string, unknown>,
  seed: number,
  invalid: InvalidSamples,
  n: number,
): MetricResult {
  const per = (f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));
  const values: Record<string, MetricValue> = {};
  const agg = { seed, invalid };
  const { morf, lerf } = curves;
  if (order === 'both') {
    values.abpc = aggregate('abpc', per((i) => (morf[i] && lerf[i] ? abpc(morf[i]!, lerf[i]!) : NaN)), 'higher', agg);
  }
  if (order !== 'lerf') {
    values.aopcMorf = aggregate('aopcMorf', per((i) => (morf[i] ? aopc(morf[i]!) : NaN)), 'higher', agg);
  }
  if (order !== 'morf') {
    values.aopcLerf = aggregate('aopcLerf', per((i) => (lerf[i] ? aopc(lerf[i]!) : NaN)), 'lower', agg);
  }
  const list = invalid.list();
  return {
    metric: 'selectivity',
    params,
    values,
    curves: { morf: morf.map((c) => (c ? Array.from(c) : [])), lerf: lerf.map((c) => (c ? Array.from(c) : [])) },
    ...(list.length ? { invalid: list } : {}),
  };
}
