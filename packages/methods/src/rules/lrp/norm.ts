import type { BackwardContext, BackwardRule } from '@blameboard/core';
import { averagePoolGradient, checkAveragePool, globalAveragePoolGradient } from '../gradient/pool.js';
import { reduceMeanGradient } from '../gradient/shape.js';
import { reduceToShape } from '../gradient/broadcast.js';
import { divideStabilized } from './stabilize.js';

/**
 * Zennit's Norm rule for parameter-free linear layers (average pooling and ReduceMean, residual sums): the ε rule
 * with ε = stabilizer, R_i = x_i (Jᵀ (R / s(z)))_i with J the layer's Jacobian — computed with the
 * layer's gradient rule, which is that Jᵀ.
 */
export function normRule(stabilizer: number): BackwardRule {
  return (ctx) => {
    const { node, b, upstream } = ctx;
    const r = divideStabilized(b, upstream[0], node.outputs[0], stabilizer);
    const adjoint = adjointOf(ctx, r);
    return node.inputs.map((input, i) => {
      const g = adjoint[i];
      return g ? b.op('Mul', [input, g])[0] : null;
    });
  };
}

function adjointOf(ctx: BackwardContext, r: string): (string | null)[] {
  const { node, b } = ctx;
  switch (node.opType) {
    case 'AveragePool':
      checkAveragePool(node);
      return averagePoolGradient({ ...ctx, upstream: [r] });
    case 'GlobalAveragePool':
      return globalAveragePoolGradient({ ...ctx, upstream: [r] });
    case 'ReduceMean':
      return reduceMeanGradient({ ...ctx, upstream: [r] });
    case 'Sub': {
      // x − y: y contributes −y; the Jacobian's −1 and the input's sign give R_y = −y·r.
      const out = b.shapeOf(node.outputs[0]);
      return [reduceToShape(b, r, out, node.inputs[0]), reduceToShape(b, b.op('Neg', [r])[0], out, node.inputs[1])];
    }
    default: {
      // Add / Sum: every operand meets r, summed back over the axes it was broadcast along.
      const out = b.shapeOf(node.outputs[0]);
      return node.inputs.map((input) => reduceToShape(b, r, out, input));
    }
  }
}
