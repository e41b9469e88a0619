import type { AttributionMethod } from '../types.js';
import { inputGradients } from '../gradients.js';

/** Saliency: the gradient of the target logit with respect to the input. */
export const gradient: AttributionMethod = {
  id: 'gradient',
  description: '∂f_t/∂x, the gradient of the target logit (saliency); |∂f_t/∂x| with abs',
  kind: 'compiled',
  params: [{ name: 'abs', type: 'boolean', description: 'return the absolute gradient', default: false }],
  async explain({ model, inputs, targets, params, batchSize, memory }) {
    const { gradients } = await inputGradients(model, inputs, targets, 'gradient', { batchSize, memory });
    if (params.abs === true) {
      const d = gradients.data as Float32Array;
      for (let i = 0; i < d.length; i++) d[i] = Math.abs(d[i]);
    }
    return { attributions: gradients };
  },
};
