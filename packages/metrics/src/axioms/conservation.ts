import type { ParamSpec, Tensor } from '@blameboard/core';
import { sizeOf } from '@blameboard/core';
import { aggregate, InvalidSamples, markNonFiniteAttributions } from '../aggregate.js';
import { methodBaseline } from '../perturbation/baseline.js';
import { methodExplainer } from '../explainer.js';
import { modelScorer } from '../model-output.js';
import { budgetOf, requireAttributions } from '../request.js';
import type { Metric, MetricRequest, MetricResult } from '../types.js';

export type ConservationReference = 'auto' | 'output' | 'baseline';

/**
 * |Σ_i R_i + bias − (f_t(x) − f_t(x′))| / (|f_t(x)| + 1e-12) per sample. `fxRef` is f_t(x′)
 * (null: the reference output is 0).
 */
export function relativeResiduals(
  attributions: Tensor,
  fx: ArrayLike<number>,
  fxRef: ArrayLike<number> | null,
  bias: ArrayLike<number> | null,
): Float64Array {
  const n = attributions.shape[0];
  const d = sizeOf(attributions.shape.slice(1));
  const a = attributions.data as Float32Array;
  const out = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    let total = 0;
    for (let i = s * d; i < (s + 1) * d; i++) total += a[i];
    if (bias) total += bias[s];
    const explained = fx[s] - (fxRef ? fxRef[s] : 0);
    out[s] = Math.abs(total - explained) / (Math.abs(fx[s]) + 1e-12);
  }
  return out;
}

/** Σ over layers of the bias relevance, per sample. */
export function biasTotals(bias: { perSample: number[] }[] | undefined, n: number): Float64Array | null {
  if (!bias || bias.length === 0) return null;
  const out = new Float64Array(n);
  for (const layer of bias) for (let s = 0; s < n; s++) out[s] += layer.perSample[s];
  return out;
}

const params: ParamSpec[] = [
  {
    name: 'reference',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'output', 'baseline'],
    description:
      "what the relevance must add up to: f_t(x) − f_t(x′) for baseline methods (IG, DeepLIFT) and f_t(x) otherwise ('auto'); 'output' always f_t(x); 'baseline' always against the method's baseline (zero without one)",
  },
  { name: 'tolerance', type: 'number', default: 1e-3, min: 0, max: 1e3, description: 'relative residual counted as conserving (at most 1e3)' },
];

export const conservation: Metric = {
  id: 'conservation',
  description: 'conservation of evidence: relative residual between the summed relevance (+ bias relevance) and the explained output',
  needs: 'attributions',
  params,
  async evaluate(request: MetricRequest): Promise<MetricResult> {
    const seed = request.seed ?? 0;
    const n = request.inputs.shape[0];
    let attributions = request.attributions;
    let bias = request.biasRelevance;
    // Bias relevance only exists when the method ran with it explicit; re-explain to get it.
    const explicitBias = request.method?.params.bias === 'explicit';
    if (request.method && (!attributions || (explicitBias && !bias))) {
      const result = await methodExplainer(request.model, request.method, request.data, budgetOf(request))(request.inputs, request.targets);
      attributions = result.attributions;
      bias = result.biasRelevance;
    }
    attributions = requireAttributions({ ...request, attributions }, 'conservation');
    const invalid = new InvalidSamples();
    markNonFiniteAttributions(attributions, invalid);

    const reference = request.params.reference as ConservationReference;
    const score = modelScorer(request.model, 'logit', budgetOf(request));
    const fx = await score(request.inputs, request.targets);
    let fxRef: Float64Array | null = null;
    if (reference !== 'output') {
      let baseline = methodBaseline(request);
      if (!baseline && reference === 'baseline') {
        baseline = { dtype: 'float32', shape: [...request.inputs.shape], data: new Float32Array(request.inputs.data.length) };
      }
      if (baseline) fxRef = await score(baseline, request.targets);
    }
    const residuals = relativeResiduals(attributions, fx, fxRef, biasTotals(bias, n));
    const tolerance = request.params.tolerance as number;
    const within = residuals.map((r) => (Number.isFinite(r) ? (r <= tolerance ? 1 : 0) : NaN));
    const agg = { seed, invalid };
    const values = {
      relativeError: aggregate('relativeError', residuals, 'lower', agg),
      withinTolerance: aggregate('withinTolerance', within, 'higher', agg),
    };
    const list = invalid.list();
    return { metric: 'conservation', params: request.params, values, ...(list.length ? { invalid: list } : {}) };
  },
};
