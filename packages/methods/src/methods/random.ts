import { Rng } from '@blameboard/core';
import { seedParam } from '../baselines.js';
import type { AttributionMethod } from '../types.js';

/** Control: seeded N(0, 1) noise, the floor every real method must clear. */
export const random: AttributionMethod = {
  id: 'random',
  description: 'control: seeded N(0, 1) noise',
  kind: 'forward',
  params: [seedParam],
  async explain({ inputs, params }) {
    const out = new Float32Array(inputs.data.length);
    new Rng(params.seed as number).fillNormal(out);
    return { attributions: { dtype: 'float32', shape: [...inputs.shape], data: out } };
  },
};
