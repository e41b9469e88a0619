import type { BackwardRule } from '@blameboard/core';
import { intsAttr, staticDims } from '../attributes.js';
import { adjointConvTransposeAttributes, channelsOf, windowGeometry } from '../gradient/conv-geometry.js';
import { checkMaxPool, globalMaxPoolGradient, maxPoolGradient } from '../gradient/pool.js';
import { divideStabilized } from './stabilize.js';

export type MaxPoolMode = 'winner-take-all' | 'proportional';
export const MAXPOOL_MODES: readonly MaxPoolMode[] = ['winner-take-all', 'proportional'];

/**
 * `winner-take-all`: each window's relevance goes to its maximum (the gradient; Zennit's default).
 * `proportional`: split over the window's inputs in proportion to their positive parts (seed 002's
 * "radial maximum"): R_i = x⁺_i Σ_k R_k / s(Σ_{j∈k} x⁺_j).
 */
export function maxPoolRule(mode: MaxPoolMode, stabilizer: number): BackwardRule {
  if (mode === 'winner-take-all') {
    return (ctx) => {
      if (ctx.node.opType === 'MaxPool') checkMaxPool(ctx.node);
      return ctx.node.opType === 'MaxPool' ? maxPoolGradient(ctx) : globalMaxPoolGradient(ctx);
    };
  }
  return (ctx) => {
    const { node, b, upstream } = ctx;
    const x = node.inputs[0];
    const xp = b.op('Relu', [x])[0];
    if (node.opType === 'GlobalMaxPool') {
      const spatial = staticDims(node, b.shapeOf(x).slice(2), 'the input');
      const count = spatial.reduce((p, d) => p * d, 1);
      const sum = b.op('Mul', [b.op('GlobalAveragePool', [xp])[0], b.scalar(count)])[0];
      const r = divideStabilized(b, upstream[0], sum, stabilizer);
      return [b.op('Mul', [xp, r])[0]];
    }
    checkMaxPool(node);
    const kernel = intsAttr(node, 'kernel_shape', []);
    const geo = windowGeometry(b, node, kernel);
    // Windows that run past the end (ceil_mode) see zeros there: pad the sum-pool's end to reach them.
    const padEnd = geo.input.map((h, i) => Math.max(geo.padEnd[i], (geo.output[i] - 1) * geo.strides[i] + (kernel[i] - 1) * geo.dilations[i] + 1 - geo.padBegin[i] - h));
    const channels = channelsOf(node, b.shapeOf(x));
    const ones = b.constant(
      { dtype: 'float32', shape: [channels, 1, ...kernel], data: new Float32Array(channels * kernel.reduce((p, k) => p * k, 1)).fill(1) },
      'lrp_maxpool_ones',
    );
    const sum = b.op('Conv', [xp, ones], {
      kernel_shape: { type: 'ints', value: kernel },
      strides: { type: 'ints', value: geo.strides },
      dilations: { type: 'ints', value: geo.dilations },
      pads: { type: 'ints', value: [...geo.padBegin, ...padEnd] },
      group: { type: 'int', value: channels },
    })[0];
    const r = divideStabilized(b, upstream[0], sum, stabilizer);
    const spread = b.op('ConvTranspose', [r, ones], adjointConvTransposeAttributes(geo, channels))[0];
    return [b.op('Mul', [xp, spread])[0]];
  };
}
