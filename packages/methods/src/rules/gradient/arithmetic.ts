import type { BackwardRule } from '@blameboard/core';
import { reduceToShape } from './broadcast.js';

/** Each operand receives the upstream signal summed back over the axes it was broadcast along. */
export const addGradient: BackwardRule = ({ node, b, upstream }) => {
  const out = b.shapeOf(node.outputs[0]);
  return node.inputs.map((input) => reduceToShape(b, upstream[0], out, input));
};

/** The variadic Sum is an Add of all its operands. */
export const sumGradient: BackwardRule = addGradient;

export const subGradient: BackwardRule = ({ node, b, upstream }) => {
  const out = b.shapeOf(node.outputs[0]);
  const [x, y] = node.inputs;
  const negated = b.op('Neg', [upstream[0]])[0];
  return [reduceToShape(b, upstream[0], out, x), reduceToShape(b, negated, out, y)];
};

export const negGradient: BackwardRule = ({ b, upstream }) => [b.op('Neg', [upstream[0]])[0]];

/** d(xy) = y·dx + x·dy. */
export const mulGradient: BackwardRule = ({ node, b, upstream }) => {
  const out = b.shapeOf(node.outputs[0]);
  const [x, y] = node.inputs;
  const dx = b.op('Mul', [upstream[0], y])[0];
  const dy = b.op('Mul', [upstream[0], x])[0];
  return [reduceToShape(b, dx, out, x), reduceToShape(b, dy, out, y)];
};

/** d(x/y) = dx/y − (x/y)·dy/y. */
export const divGradient: BackwardRule = ({ node, b, upstream }) => {
  const out = b.shapeOf(node.outputs[0]);
  const [x, y] = node.inputs;
  const dx = b.op('Div', [upstream[0], y])[0];
  const quotientOverY = b.op('Div', [node.outputs[0], y])[0];
  const dy = b.op('Neg', [b.op('Mul', [upstream[0], quotientOverY])[0]])[0];
  return [reduceToShape(b, dx, out, x), reduceToShape(b, dy, out, y)];
};
