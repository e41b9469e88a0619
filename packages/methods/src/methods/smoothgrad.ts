import { Rng, sizeOf } from '@blameboard/core';
import { seedParam } from '../baselines.js';
import { streamGradients } from '../gradients.js';
import type { AttributionMethod } from '../types.js';

/**
 * SmoothGrad (Smilkov et al. 2017) and its squared and variance (VarGrad) variants. Noise is
 * ε ~ N(0, σ²) with σ = noise·(max x − min x) per sample; draws are consumed in (sample, draw,
 * feature) order, so results do not depend on the batch size.
 */
export const smoothgrad: AttributionMethod = {
  id: 'smoothgrad',
  description: 'mean of ∇f_t(x + ε) over noisy copies (squared: mean of squares; var: their variance, VarGrad)',
  kind: 'compiled',
  params: [
    { name: 'samples', type: 'integer', description: 'noisy copies per input (at most 4096)', default: 16, min: 1, max: 4096 },
    { name: 'noise', type: 'number', description: 'noise σ as a fraction of each input’s value range (at most 100)', default: 0.1, min: 0, max: 100 },
    { name: 'variant', type: 'string', description: 'aggregate of the noisy gradients', default: 'mean', choices: ['mean', 'squared', 'var'] },
    { name: 'multiplyByInput', type: 'boolean', description: 'aggregate (x + ε) ⊙ ∇f_t(x + ε) instead (Captum NoiseTunnel over InputXGradient)', default: false },
    seedParam,
  ],
  async explain({ model, inputs, targets, params, batchSize, memory }) {
    const samples = params.samples as number;
    const noise = params.noise as number;
    const variant = params.variant as 'mean' | 'squared' | 'var';
    const byInput = params.multiplyByInput === true;
    const n = inputs.shape[0];
    const per = sizeOf(inputs.shape.slice(1));
    const x = inputs.data as Float32Array;
    const sigma = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let j = i * per; j < (i + 1) * per; j++) {
        lo = Math.min(lo, x[j]);
        hi = Math.max(hi, x[j]);
      }
      sigma[i] = noise * (hi - lo);
    }
    const rng = new Rng(params.seed as number);
    const sum = new Float64Array(n * per);
    const sumSq = variant === 'mean' ? null : new Float64Array(n * per);
    const noisy = new Map<number, Float32Array>();
    await streamGradients({
      model,
      methodId: 'smoothgrad',
      rows: n * samples,
      budget: { batchSize, memory },
      fill: (row, xRow) => {
        const i = Math.floor(row / samples);
        const o = i * per;
        if (sigma[i] > 0) rng.addNormals(xRow, x.subarray(o, o + per), 0, sigma[i]);
        else for (let j = 0; j < per; j++) xRow[j] = x[o + j] + 0;
        if (byInput) noisy.set(row, Float32Array.from(xRow));
        return targets[i];
      },
      consume: (row, g) => {
        const o = Math.floor(row / samples) * per;
        const input = byInput ? noisy.get(row)! : null;
        noisy.delete(row);
        for (let j = 0; j < per; j++) {
          const v = input ? input[j] * g[j] : g[j];
          sum[o + j] += v;
          if (sumSq) sumSq[o + j] += v * v;
        }
      },
    });
    const out = new Float32Array(n * per);
    for (let k = 0; k < out.length; k++) {
      const mean = sum[k] / samples;
      if (variant === 'mean') out[k] = mean;
      else if (variant === 'squared') out[k] = sumSq![k] / samples;
      else out[k] = sumSq![k] / samples - mean * mean;
    }
    return { attributions: { dtype: 'float32', shape: [...inputs.shape], data: out } };
  },
};
