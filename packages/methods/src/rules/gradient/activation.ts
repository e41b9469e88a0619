import type { BackwardRule, GraphBuilder, IrNode } from '@blameboard/core';
import { floatAttr } from '../attributes.js';

/** g′(z) of an elementwise activation y = g(z), as a graph value shaped like z (or broadcastable to it). */
export type Derivative = (b: GraphBuilder, node: IrNode) => string;

const positive = (b: GraphBuilder, z: string) => b.op('Greater', [z, b.scalar(0)])[0];

/** g′ at 0 is taken as 0 for the kinked activations, as PyTorch and tfjs do. */
export const derivatives: Record<string, Derivative> = {
  Relu: (b, n) => b.op('Cast', [positive(b, n.inputs[0])], { to: { type: 'int', value: 1 } })[0],
  LeakyRelu: (b, n) => b.op('Where', [positive(b, n.inputs[0]), b.scalar(1), b.scalar(floatAttr(n, 'alpha', 0.01))])[0],
  Sigmoid: (b, n) => {
    const y = n.outputs[0];
    return b.op('Mul', [y, b.op('Sub', [b.scalar(1), y])[0]])[0];
  },
  Tanh: (b, n) => {
    const y = n.outputs[0];
    return b.op('Sub', [b.scalar(1), b.op('Mul', [y, y])[0]])[0];
  },
  Softplus: (b, n) => b.op('Sigmoid', [n.inputs[0]])[0],
  // ELU: α·eˣ = y + α below zero.
  Elu: (b, n) => {
    const belowZero = b.op('Add', [n.outputs[0], b.scalar(floatAttr(n, 'alpha', 1))])[0];
    return b.op('Where', [positive(b, n.inputs[0]), b.scalar(1), belowZero])[0];
  },
};

export const ACTIVATIONS = Object.keys(derivatives);

/**
 * ReLU′ as a 0/1 float: [y > 0], which equals [z > 0] but reads the ReLU's output, so that z stays
 * private to a Conv/Gemm+ReLU pair that onnxruntime fuses (reading z costs the fusion, ~2× the
 * layer's forward time). A Cast, which onnxruntime runs faster than Where.
 */
export function reluMask(b: GraphBuilder, relu: IrNode): string {
  return b.op('Cast', [positive(b, relu.outputs[0])], { to: { type: 'int', value: 1 } })[0];
}

/** Upstream ⊙ g′(z). */
export const activationGradient: BackwardRule = ({ node, b, upstream }) => {
  if (node.opType === 'Relu') return [b.op('Mul', [upstream[0], reluMask(b, node)])[0]];
  return [b.op('Mul', [upstream[0], derivatives[node.opType](b, node)])[0]];
};

/** Clip(x, min, max) passes the signal where min ≤ x ≤ max (PyTorch's clamp and tfjs' clipByValue agree). */
export const clipGradient: BackwardRule = ({ node, b, upstream }) => {
  const [x, lo, hi] = node.inputs;
  let mask: string | null = null;
  if (lo) mask = b.op('GreaterOrEqual', [x, lo])[0];
  if (hi) {
    const under = b.op('LessOrEqual', [x, hi])[0];
    mask = mask ? b.op('And', [mask, under])[0] : under;
  }
  if (!mask) return [upstream[0], null, null];
  return [b.op('Where', [mask, upstream[0], b.scalar(0)])[0], null, null];
};
