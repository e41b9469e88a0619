import { sizeOf, targetOutputs } from '@blameboard/core';
import type { AttributionMethod } from '../types.js';

/**
 * Control: f_t(x) spread evenly over the d features. Conservative, continuous and
 * implementation-invariant by construction — and uninformative, which the leaderboard shows.
 */
export const uniform: AttributionMethod = {
  id: 'uniform',
  description: 'control: f_t(x)/d on every feature (conservative and uninformative)',
  kind: 'forward',
  params: [],
  async explain({ model, inputs, targets, batchSize, memory }) {
    const f = await targetOutputs(model, inputs, targets, { batchSize, memory });
    const per = sizeOf(inputs.shape.slice(1));
    const out = new Float32Array(inputs.data.length);
    for (let i = 0; i < f.length; i++) out.fill(f[i] / per, i * per, (i + 1) * per);
    return { attributions: { dtype: 'float32', shape: [...inputs.shape], data: out } };
  },
};
