import type { ParamSpec, Tensor } from '@blameboard/core';
import { float32, forward, sizeOf, tensor, UsageError } from '@blameboard/core';
import { blurSigmaParam, FLOAT32_MAX, geometryShape } from '@blameboard/methods';
import { aggregate, InvalidSamples, markNonFiniteAttributions } from '../aggregate.js';
import { methodExplainer } from '../explainer.js';
import { FILL_CHOICES, makeFill, type Fill } from '../perturbation/fills.js';
import { argmaxRows, predictClasses } from '../model-output.js';
import { morfOrder, regionGrid, regionScores, type RegionGrid } from '../perturbation/regions.js';
import { budgetOf, maxRowsOf, sampleShapeOf, sampleView } from '../request.js';
import { defaultPatch } from './selectivity.js';
import type { Metric, MetricRequest, MetricResult } from '../types.js';

/** argmax class per row of a batch of inputs. */
export type Classifier = (inputs: Tensor) => Promise<Int32Array>;

export interface CounterfactualCase {
  /** Sample index in the inputs. */
  index: number;
  gold: number;
  /** Attribution of the gold class for this sample. */
  attribution: Float32Array;
  /** Values put in place of the replaced features. */
  fill: Float32Array;
}

/**
 * Seed 000's test of blame: replace regions one by one in decreasing Σ|attribution| order (ties
 * by region index) until the prediction becomes the gold label. Returns the fraction of the
 * features replaced at that point (1 when it never happens) and whether it happened. Prefixes are
 * scored in blocks of up to `block` regions per sample and at most `maxRows` rows per call.
 */
export async function counterfactualScores(
  inputs: Tensor,
  cases: CounterfactualCase[],
  grid: RegionGrid,
  classify: Classifier,
  opts: { block?: number; maxRows?: number } = {},
): Promise<{ fraction: Float64Array; success: Float64Array }> {
  const shape = sampleShapeOf(inputs);
  const d = grid.featureCount;
  const fraction = new Float64Array(cases.length).fill(1);
  const success = new Float64Array(cases.length);
  const block = Math.max(1, Math.min(grid.count, opts.block ?? 64));
  const maxRows = Math.max(block, opts.maxRows ?? 1024);
  // Per case: region order, regions already tried, the input with them replaced.
  const state = cases.map((c) => ({
    order: morfOrder(regionScores(grid, c.attribution, 0, true)),
    tried: 0,
    replacedFeatures: 0,
    current: Float32Array.from(sampleView(inputs, c.index)),
  }));
  let pending = cases.map((_, i) => i);
  while (pending.length) {
    const round: { caseIndex: number; rows: number }[] = [];
    let rows = 0;
    for (const i of pending) {
      const take = Math.min(block, grid.count - state[i].tried);
      if (rows + take > maxRows) break;
      round.push({ caseIndex: i, rows: take });
      rows += take;
    }
    const batch = new Float32Array(rows * d);
    const featuresAt: number[] = [];
    let row = 0;
    for (const { caseIndex, rows: take } of round) {
      const st = state[caseIndex];
      const fill = cases[caseIndex].fill;
      for (let k = 0; k < take; k++) {
        for (const f of grid.members[st.order[st.tried + k]]) st.current[f] = fill[f];
        st.replacedFeatures += grid.members[st.order[st.tried + k]].length;
        batch.set(st.current, row * d);
        featuresAt.push(st.replacedFeatures);
        row++;
      }
    }
    const predicted = await classify(tensor('float32', [rows, ...shape], batch));
    row = 0;
    const done = new Set<number>();
    for (const { caseIndex, rows: take } of round) {
      const st = state[caseIndex];
      for (let k = 0; k < take; k++, row++) {
        if (!done.has(caseIndex) && predicted[row] === cases[caseIndex].gold) {
          fraction[caseIndex] = featuresAt[row] / d;
          success[caseIndex] = 1;
          done.add(caseIndex);
        }
      }
      st.tried += take;
      if (st.tried >= grid.count) done.add(caseIndex);
    }
    pending = pending.filter((i) => !done.has(i));
  }
  return { fraction, success };
}

/** Mean input per class [C, …] over `inputs` grouped by `labels` (classes without samples: zeros). */
export function classMeansOf(inputs: Tensor, labels: Int32Array, classes: number): Tensor {
  const d = sizeOf(inputs.shape.slice(1));
  const sums = new Float64Array(classes * d);
  const counts = new Float64Array(classes);
  const x = inputs.data as Float32Array;
  for (let s = 0; s < labels.length; s++) {
    counts[labels[s]]++;
    for (let i = 0; i < d; i++) sums[labels[s] * d + i] += x[s * d + i];
  }
  const out = new Float32Array(classes * d);
  for (let c = 0; c < classes; c++) for (let i = 0; i < d; i++) out[c * d + i] = counts[c] ? sums[c * d + i] / counts[c] : 0;
  return tensor('float32', [classes, ...inputs.shape.slice(1)], out);
}

const params: ParamSpec[] = [
  { name: 'patch', type: 'integer', min: 1, max: 4096, description: 'side of the square regions replaced at once (default 4 for images, 1 feature for vectors)' },
  {
    name: 'fill',
    type: 'string',
    default: 'class-mean',
    choices: ['class-mean', ...FILL_CHOICES],
    allowNumber: true,
    min: -FLOAT32_MAX,
    max: FLOAT32_MAX,
    description: "what replaces a region: the gold class's mean input, or zero, mean, uniform, blur, a number",
  },
  blurSigmaParam,
];

export const counterfactualBlame: Metric = {
  id: 'counterfactual-blame',
  description:
    "seed 000's test of blame: on misclassified samples, replace the regions most blamed for the gold label until the model predicts it; fraction of the input replaced (1 if never) and success rate",
  needs: 'method',
  params,
  async evaluate(request: MetricRequest): Promise<MetricResult> {
    const { model, inputs } = request;
    const seed = request.seed ?? 0;
    const budget = budgetOf(request);
    const n = inputs.shape[0];
    const shape = sampleShapeOf(inputs);
    const d = sizeOf(shape);
    const gold = request.data?.labels ?? request.targets;
    if (gold.length !== n) throw new UsageError(`counterfactual-blame: ${gold.length} labels for ${n} samples`);
    const predicted = await predictClasses(model, inputs, budget);
    const wrong = Array.from({ length: n }, (_, i) => i).filter((i) => predicted[i] !== gold[i]);
    const skipped = Array.from({ length: n }, (_, i) => i).filter((i) => predicted[i] === gold[i]);

    // Attributions of the gold label for the misclassified samples.
    const attributionOf = new Map<number, Float32Array>();
    if (wrong.length) {
      if (request.method) {
        const rows = new Float32Array(wrong.length * d);
        wrong.forEach((s, j) => rows.set(sampleView(inputs, s), j * d));
        const { attributions } = await methodExplainer(model, request.method, request.data, budget)(
          tensor('float32', [wrong.length, ...shape], rows),
          Int32Array.from(wrong, (s) => gold[s]),
        );
        wrong.forEach((s, j) => attributionOf.set(s, (attributions.data as Float32Array).subarray(j * d, (j + 1) * d)));
      } else if (request.attributions) {
        if (wrong.some((s) => request.targets[s] !== gold[s])) {
          throw new UsageError('counterfactual-blame explains the gold label: pass a method, or attributions computed with targets = the labels');
        }
        for (const s of wrong) attributionOf.set(s, sampleView(request.attributions, s));
      } else {
        throw new UsageError("metric 'counterfactual-blame' needs a method (or attributions of the gold labels)");
      }
    }

    const invalid = new InvalidSamples();
    const attrTensor = float32([wrong.length, ...shape]);
    wrong.forEach((s, j) => (attrTensor.data as Float32Array).set(attributionOf.get(s)!, j * d));
    const badRows = new InvalidSamples();
    markNonFiniteAttributions(attrTensor, badRows, 'attribution of the gold label');
    for (const { index, reason } of badRows.list()) invalid.mark(wrong[index], reason);

    const fillKind = request.params.fill as string | number;
    let fillOf: (s: number) => Float32Array;
    if (fillKind === 'class-mean') {
      const classes = model.outputSize;
      const means = request.data?.classMeans ?? classMeansOf(inputs, gold, classes);
      fillOf = (s) => (means.data as Float32Array).subarray(gold[s] * d, (gold[s] + 1) * d);
    } else {
      const fill: Fill = makeFill(fillKind, {
        sampleShape: shape,
        mean: request.data?.mean,
        range: request.data?.range,
        imageShape: request.data?.imageShape,
        inputs,
        seed,
        blurSigma: request.params.blurSigma as number,
        owner: 'counterfactual-blame fill',
      });
      fillOf = (s) => fill(sampleView(inputs, s));
    }
    const geometry = geometryShape(shape, request.data?.imageShape);
    const patch = (request.params.patch as number | undefined) ?? defaultPatch(geometry);
    const grid = regionGrid(geometry, patch);
    const cases = wrong.filter((s) => !invalid.has(s)).map((s) => ({ index: s, gold: gold[s], attribution: attributionOf.get(s)!, fill: fillOf(s) }));
    const classify: Classifier = async (x) => argmaxRows(await forward(model, x, { output: 'logit', ...budget }));
    const scores = await counterfactualScores(inputs, cases, grid, classify, { maxRows: await maxRowsOf(request) });

    const fraction = new Float64Array(n).fill(NaN);
    const success = new Float64Array(n).fill(NaN);
    cases.forEach((c, j) => {
      fraction[c.index] = scores.fraction[j];
      success[c.index] = scores.success[j];
    });
    const agg = { seed, invalid, skip: new Set(skipped) };
    const values = {
      fractionReplaced: aggregate('fractionReplaced', fraction, 'lower', agg),
      successRate: aggregate('successRate', success, 'higher', agg),
    };
    const list = invalid.list();
    return {
      metric: 'counterfactual-blame',
      params: { ...request.params, patch },
      values,
      ...(list.length ? { invalid: list } : {}),
      ...(skipped.length ? { skipped: skipped.map((index) => ({ index, reason: 'correctly classified' })) } : {}),
    };
  },
};
