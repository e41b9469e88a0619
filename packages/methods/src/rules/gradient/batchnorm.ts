import type { BackwardRule, IrNode } from '@blameboard/core';
import { floatAttr, intAttr, unsupported } from '../attributes.js';

export function checkBatchNorm(node: IrNode): void {
  if (intAttr(node, 'training_mode', 0) !== 0) throw unsupported(node, 'training-mode batch normalization');
}

/**
 * Inference BatchNormalization is the per-channel affine map y = x·γ/√(σ²+ε) + const, so the
 * signal is scaled by γ/√(σ²+ε) along axis 1.
 */
export const batchNormGradient: BackwardRule = ({ node, b, upstream }) => {
  const [x, scale, , , variance] = node.inputs;
  const rank = b.shapeOf(x).length;
  const eps = floatAttr(node, 'epsilon', 1e-5);
  const gamma = b.initializer(scale);
  const sigma2 = b.initializer(variance);
  let factor: string;
  if (gamma && sigma2 && gamma.dtype === 'float32' && sigma2.dtype === 'float32') {
    const c = gamma.data.length;
    const data = new Float32Array(c);
    // Math.fround mirrors onnxruntime's float32 arithmetic.
    for (let i = 0; i < c; i++) data[i] = Math.fround((gamma.data[i] as number) / Math.fround(Math.sqrt(Math.fround((sigma2.data[i] as number) + eps))));
    factor = b.constant({ dtype: 'float32', shape: [c, ...Array(Math.max(rank - 2, 0)).fill(1)], data }, 'bb_bn_factor');
  } else {
    const std = b.op('Sqrt', [b.op('Add', [variance, b.scalar(eps)])[0]])[0];
    const perChannel = b.op('Div', [scale, std])[0];
    factor = b.op('Reshape', [perChannel, b.int64s([-1, ...Array(Math.max(rank - 2, 0)).fill(1)])])[0];
  }
  return [b.op('Mul', [upstream[0], factor])[0], null, null, null, null];
};
