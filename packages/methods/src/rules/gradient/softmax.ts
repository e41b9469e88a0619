import type { BackwardRule } from '@blameboard/core';
import { intAttr } from '../attributes.js';

function axisOf(rank: number, raw: number): number {
  return raw < 0 ? raw + rank : raw;
}

/** y = softmax(x) along one axis (opset ≥ 13): dx = y ⊙ (g − Σ_axis g ⊙ y). */
export const softmaxGradient: BackwardRule = ({ node, b, upstream }) => {
  const rank = b.shapeOf(node.inputs[0]).length;
  const axes = b.int64s([axisOf(rank, intAttr(node, 'axis', -1))]);
  const y = node.outputs[0];
  const dot = b.op('ReduceSum', [b.op('Mul', [upstream[0], y])[0], axes], { keepdims: { type: 'int', value: 1 } })[0];
  return [b.op('Mul', [y, b.op('Sub', [upstream[0], dot])[0]])[0]];
};

/** y = log softmax(x): dx = g − softmax(x) ⊙ Σ_axis g. */
export const logSoftmaxGradient: BackwardRule = ({ node, b, upstream }) => {
  const rank = b.shapeOf(node.inputs[0]).length;
  const axes = b.int64s([axisOf(rank, intAttr(node, 'axis', -1))]);
  const total = b.op('ReduceSum', [upstream[0], axes], { keepdims: { type: 'int', value: 1 } })[0];
  const p = b.op('Exp', [node.outputs[0]])[0];
  return [b.op('Sub', [upstream[0], b.op('Mul', [p, total])[0]])[0]];
};
