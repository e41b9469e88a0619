import type { ParamSpec, Tensor } from '@blameboard/core';
import { sizeOf, UsageError } from '@blameboard/core';
import { aggregate, InvalidSamples, markNonFiniteAttributions } from '../aggregate.js';
import { methodBaseline } from '../perturbation/baseline.js';
import { requireAttributions } from '../request.js';
import type { Metric, MetricRequest, MetricResult } from '../types.js';

/**
 * Against the linear ground truth R*_i = c_i (x_i − x′_i) (seed 003): cosine(R, R*) and the share
 * of |R| on the NOISE features (those with c_i = 0), per sample.
 */
export function groundTruthScores(
  attributions: Tensor,
  inputs: Tensor,
  coefficients: ArrayLike<number>,
  baseline: Tensor | null,
): { cosine: Float64Array; noiseShare: Float64Array } {
  const n = inputs.shape[0];
  const d = sizeOf(inputs.shape.slice(1));
  const r = attributions.data as Float32Array;
  const x = inputs.data as Float32Array;
  const x0 = baseline?.data as Float32Array | undefined;
  const cosine = new Float64Array(n);
  const noiseShare = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    let dot = 0;
    let rr = 0;
    let tt = 0;
    let noise = 0;
    let mass = 0;
    for (let i = 0; i < d; i++) {
      const k = s * d + i;
      const truth = coefficients[i] * (x[k] - (x0 ? x0[k] : 0));
      dot += r[k] * truth;
      rr += r[k] * r[k];
      tt += truth * truth;
      mass += Math.abs(r[k]);
      if (coefficients[i] === 0) noise += Math.abs(r[k]);
    }
    cosine[s] = dot / Math.sqrt(rr * tt);
    noiseShare[s] = noise / mass;
  }
  return { cosine, noiseShare };
}

export const groundTruth: Metric = {
  id: 'ground-truth',
  description: 'agreement with a known linear ground truth R*_i = c_i(x_i − x′_i) (synthetic-linear): cosine similarity and the share of relevance on noise features',
  needs: 'attributions',
  params: [] as ParamSpec[],
  async evaluate(request: MetricRequest): Promise<MetricResult> {
    const attributions = requireAttributions(request, 'ground-truth');
    const coefficients = request.data?.groundTruth;
    const d = sizeOf(request.inputs.shape.slice(1));
    if (!coefficients) {
      throw new UsageError(
        `metric 'ground-truth' needs a dataset with ground truth (synthetic-linear)${request.data?.name ? `; dataset '${request.data.name}' has none` : ''}`,
      );
    }
    if (coefficients.length !== d) {
      throw new UsageError(`metric 'ground-truth': the ground truth has ${coefficients.length} coefficients but a sample has ${d} features`);
    }
    const seed = request.seed ?? 0;
    const invalid = new InvalidSamples();
    markNonFiniteAttributions(attributions, invalid);
    const { cosine, noiseShare } = groundTruthScores(attributions, request.inputs, coefficients, methodBaseline(request));
    const agg = { seed, invalid };
    const values = {
      cosine: aggregate('cosine', cosine, 'higher', agg),
      noiseShare: aggregate('noiseShare', noiseShare, 'lower', agg),
    };
    const list = invalid.list();
    return { metric: 'ground-truth', params: request.params, values, ...(list.length ? { invalid: list } : {}) };
  },
};
