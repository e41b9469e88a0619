import { sizeOf } from '@blameboard/core';
import { baselineParam, baselineSpec, blurSigmaParam, makeBaseline, seedParam } from '../baselines.js';
import { streamGradients } from '../gradients.js';
import { INTEGRATION_RULES, quadrature, type IntegrationRule } from '../integration.js';
import type { AttributionMethod } from '../types.js';

/**
 * Integrated Gradients (Sundararajan et al. 2017) with Captum's quadrature:
 * (x − x′) ⊙ Σ_k w_k ∇f_t(x′ + α_k(x − x′)). The (sample, step) rows stream through the
 * gradient graph `batchSize` at a time into per-sample sums, so memory does not grow with steps.
 */
export const integratedGradients: AttributionMethod = {
  id: 'integrated-gradients',
  description: 'path integral of the gradient from a baseline x′ to x, times (x − x′)',
  kind: 'compiled',
  params: [
    { name: 'steps', type: 'integer', description: 'number of integration points (at most 4096: beyond that the quadrature error is far below float32)', default: 32, min: 1, max: 4096 },
    { name: 'rule', type: 'string', description: 'quadrature rule (Captum method names)', default: 'gauss-legendre', choices: [...INTEGRATION_RULES] },
    baselineParam(),
    blurSigmaParam,
    { name: 'batchSize', type: 'integer', description: 'rows (sample × step) per onnxruntime run; bounds memory (default: the run’s batch size, else what its memory budget holds; at most 65536)', min: 1, max: 65536 },
    seedParam,
  ],
  async explain({ model, inputs, targets, params, data, batchSize, memory }) {
    const steps = params.steps as number;
    const { alphas, weights } = quadrature(params.rule as IntegrationRule, steps);
    const baseline = makeBaseline(baselineSpec(params.baseline), inputs, { data, seed: params.seed as number, blurSigma: params.blurSigma as number });
    const n = inputs.shape[0];
    const per = sizeOf(inputs.shape.slice(1));
    const x = inputs.data as Float32Array;
    const b = baseline.data as Float32Array;
    const sums = new Float64Array(n * per);
    await streamGradients({
      model,
      methodId: 'integrated-gradients',
      rows: n * steps,
      budget: { batchSize: (params.batchSize as number | undefined) ?? batchSize, memory },
      fill: (row, xRow) => {
        const i = Math.floor(row / steps);
        const alpha = alphas[row % steps];
        const o = i * per;
        for (let j = 0; j < per; j++) xRow[j] = b[o + j] + alpha * (x[o + j] - b[o + j]);
        return targets[i];
      },
      consume: (row, g) => {
        const o = Math.floor(row / steps) * per;
        const w = weights[row % steps];
        for (let j = 0; j < per; j++) sums[o + j] += w * g[j];
      },
    });
    const out = new Float32Array(n * per);
    for (let k = 0; k < out.length; k++) out[k] = (x[k] - b[k]) * sums[k];
    return { attributions: { dtype: 'float32', shape: [...inputs.shape], data: out } };
  },
};
