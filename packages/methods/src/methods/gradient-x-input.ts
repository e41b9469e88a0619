import type { AttributionMethod } from '../types.js';
import { inputGradients } from '../gradients.js';

/** Gradient × input: each feature's first-order contribution relative to a zero input. */
export const gradientXInput: AttributionMethod = {
  id: 'gradient-x-input',
  description: 'x ⊙ ∂f_t/∂x (Captum InputXGradient)',
  kind: 'compiled',
  params: [],
  async explain({ model, inputs, targets, batchSize, memory }) {
    const { gradients } = await inputGradients(model, inputs, targets, 'gradient-x-input', { batchSize, memory });
    const d = gradients.data as Float32Array;
    const x = inputs.data as Float32Array;
    for (let i = 0; i < d.length; i++) d[i] *= x[i];
    return { attributions: gradients };
  },
};
