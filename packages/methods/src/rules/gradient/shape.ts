import type { BackwardRule, GraphBuilder, IrNode } from '@blameboard/core';
import { intAttr, intsAttr, staticDims, unsupported } from '../attributes.js';
import { mapAlongAxis } from './along-axis.js';
import { shapeTarget } from './shape-target.js';

/** Flatten, Reshape, Squeeze, Unsqueeze only move elements: reshape the signal back. */
export const reshapeGradient: BackwardRule = ({ node, b, upstream }) => {
  const x = node.inputs[0];
  const dx = b.op('Reshape', [upstream[0], shapeTarget(b, x, b.shapeOf(node.outputs[0]), 'Reshape')])[0];
  return node.inputs.map((_, i) => (i === 0 ? dx : null));
};

/** Identity, Dropout (inference) and a float-to-float Cast pass the signal unchanged. */
export const identityGradient: BackwardRule = ({ node, upstream }) => node.inputs.map((_, i) => (i === 0 ? upstream[0] : null));

/** Transpose back with the inverse permutation. */
export const transposeGradient: BackwardRule = ({ node, b, upstream }) => {
  const rank = b.shapeOf(node.inputs[0]).length;
  const perm = intsAttr(node, 'perm', Array.from({ length: rank }, (_, i) => rank - 1 - i));
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return [b.op('Transpose', [upstream[0]], { perm: { type: 'ints', value: inverse } })[0]];
};

/** The static begin, count and step of a Slice along each axis it touches. */
export function sliceGeometry(node: IrNode, b: GraphBuilder): { axis: number; begin: number; count: number; step: number; dim: number }[] {
  const shape = b.shapeOf(node.inputs[0]);
  const rank = shape.length;
  const read = (i: number): number[] | undefined => {
    const name = node.inputs[i];
    if (!name) return undefined;
    const t = b.initializer(name);
    if (!t) throw unsupported(node, `Slice ${['', 'starts', 'ends', 'axes', 'steps'][i]} computed at run time`);
    return Array.from(t.data as ArrayLike<number | bigint>, Number);
  };
  const starts = read(1)!;
  const ends = read(2)!;
  const axes = read(3) ?? starts.map((_, i) => i);
  const steps = read(4) ?? starts.map(() => 1);
  return axes.map((a, i) => {
    const axis = a < 0 ? a + rank : a;
    const dim = staticDims(node, [shape[axis]], 'the sliced axis')[0];
    const step = steps[i];
    const clampTo = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    let begin = starts[i] < 0 ? starts[i] + dim : starts[i];
    let end = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (step > 0) {
      begin = clampTo(begin, 0, dim);
      end = clampTo(end, 0, dim);
    } else {
      begin = clampTo(begin, -1, dim - 1);
      end = clampTo(end, -1, dim - 1);
    }
    return { axis, begin, count: Math.max(0, Math.ceil((end - begin) / step)), step, dim };
  });
}

/**
 * Slice takes every step-th element from begin: the signal goes back to those positions, zeros
 * elsewhere — a zero padding for unit steps, the transposed 0/1 selection along the axis otherwise.
 */
export const sliceGradient: BackwardRule = ({ node, b, upstream }) => {
  const rank = b.shapeOf(node.inputs[0]).length;
  let g = upstream[0];
  for (const { axis, begin, count, step, dim } of sliceGeometry(node, b)) {
    if (step === 1) {
      const pads = new Array<number>(2 * rank).fill(0);
      pads[axis] = begin;
      pads[rank + axis] = dim - begin - count;
      if (pads.some((p) => p !== 0)) g = b.op('Pad', [g, b.int64s(pads)])[0];
      continue;
    }
    const scatter = new Float32Array(dim * count);
    for (let i = 0; i < count; i++) scatter[(begin + i * step) * count + i] = 1;
    g = mapAlongAxis(b, g, rank, axis, { rows: dim, cols: count, data: scatter });
  }
  return node.inputs.map((_, i) => (i === 0 ? g : null));
};

/** The parts go back side by side: a Concat of their signals along the split axis. */
export const splitGradient: BackwardRule = ({ node, b, upstream }) => {
  const rank = b.shapeOf(node.inputs[0]).length;
  const raw = intAttr(node, 'axis', 0);
  const axis = raw < 0 ? raw + rank : raw;
  const [dx] = b.op('Concat', upstream.filter((_, i) => node.outputs[i] !== ''), { axis: { type: 'int', value: axis } });
  return node.inputs.map((_, i) => (i === 0 ? dx : null));
};

/** The reduced axes of a ReduceMean (opset-18 input form; none given = all, unless noop_with_empty_axes). */
export function reducedAxes(node: IrNode, b: GraphBuilder): number[] {
  const rank = b.shapeOf(node.inputs[0]).length;
  let axes: number[] = [];
  if (node.inputs[1]) {
    const t = b.initializer(node.inputs[1]);
    if (!t) throw unsupported(node, 'reduction axes computed at run time');
    axes = Array.from(t.data as ArrayLike<number | bigint>, Number).map((a) => (a < 0 ? a + rank : a));
  }
  if (axes.length === 0) return intAttr(node, 'noop_with_empty_axes', 0) ? [] : Array.from({ length: rank }, (_, i) => i);
  return axes;
}

/** Every element of a reduced window receives the window's signal over its size. */
export const reduceMeanGradient: BackwardRule = ({ node, b, upstream }) => {
  const x = node.inputs[0];
  const axes = reducedAxes(node, b);
  const shape = b.shapeOf(x);
  const count = staticDims(node, axes.map((a) => shape[a]), 'the reduced axes').reduce((p, d) => p * d, 1);
  let g = upstream[0];
  if (axes.length > 0 && intAttr(node, 'keepdims', 1) === 0) g = b.op('Unsqueeze', [g, b.int64s(axes)])[0];
  const share = b.op('Mul', [g, b.scalar(1 / count)])[0];
  const shareShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return node.inputs.map((_, i) => (i === 0 ? b.op('Expand', [share, shapeTarget(b, x, shareShape, 'Expand')])[0] : null));
};
