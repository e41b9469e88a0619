import type { BackwardContext, BackwardRule } from '@blameboard/core';
import { blockedChannels, spreadOverSpace, sumOverSpace } from './blocked-layout.js';
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
export const mulGradient: BackwardRule = (ctx) => {
  const { node, b, upstream } = ctx;
  const out = b.shapeOf(node.outputs[0]);
  const [x, y] = node.inputs;
  const gated = channelGate(ctx);
  if (gated) return gated;
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

/**
 * x ⊙ gate with a per-channel gate [N, C, 1, 1] (squeeze-excitation), on images in whole channel
 * blocks: the gate is repeated over the image by a nearest Resize so that x's signal is a
 * same-shape Mul, and the gate's is summed over the image by a depthwise ones-kernel Conv, all in
 * onnxruntime's blocked layout (a broadcasting Mul and ReduceSum each reorder out of it). x's
 * signal is bit for bit the broadcast product; the gate's sum runs in the Conv's order.
 */
function channelGate({ node, b, upstream }: BackwardContext): (string | null)[] | null {
  const out = b.shapeOf(node.outputs[0]);
  const channels = blockedChannels(out);
  if (channels === null || node.inputs.length !== 2) return null;
  const spatial = out.slice(2);
  if (!spatial.every((d): d is number => typeof d === 'number')) return null;
  const shapes = node.inputs.map((i) => b.shapeOf(i));
  const full = shapes.findIndex((s) => s.length === 4 && s.every((d, i) => d === out[i]));
  const gate = 1 - full;
  if (full < 0 || !(shapes[gate].length === 4 && shapes[gate][0] === out[0] && shapes[gate][1] === channels && shapes[gate][2] === 1 && shapes[gate][3] === 1)) return null;
  const grads: (string | null)[] = [null, null];
  grads[full] = b.op('Mul', [upstream[0], spreadOverSpace(b, node.inputs[gate], out)])[0];
  grads[gate] = sumOverSpace(b, b.op('Mul', [upstream[0], node.inputs[full]])[0], channels, spatial);
  return grads;
}
