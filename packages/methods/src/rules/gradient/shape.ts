import type { BackwardRule } from '@blameboard/core';
import { intsAttr } from '../attributes.js';

/** Flatten, Reshape, Squeeze, Unsqueeze only move elements: reshape the signal back. */
export const reshapeGradient: BackwardRule = ({ node, b, upstream }) => {
  const dx = b.op('Reshape', [upstream[0], b.op('Shape', [node.inputs[0]])[0]])[0];
  return node.inputs.map((_, i) => (i === 0 ? dx : null));
};

export const identityGradient: BackwardRule = ({ node, upstream }) => node.inputs.map((_, i) => (i === 0 ? upstream[0] : null));

/** Transpose back with the inverse permutation. */
export const transposeGradient: BackwardRule = ({ node, b, upstream }) => {
  const rank = b.shapeOf(node.inputs[0]).length;
  const perm = intsAttr(node, 'perm', Array.from({ length: rank }, (_, i) => rank - 1 - i));
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return [b.op('Transpose', [upstream[0]], { perm: { type: 'ints', value: inverse } })[0]];
};
