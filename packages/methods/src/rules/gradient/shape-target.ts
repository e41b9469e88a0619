import type { Dim, GraphBuilder } from '@blameboard/core';

/**
 * `x`'s shape as the shape input of a Reshape or Expand whose data input is shaped `from`. A
 * constant wherever the only unknown dimension is one `from` carries at the same place (the
 * batch): Reshape copies it with a 0, Expand keeps it with a 1. A runtime `Shape(x)` would hide
 * every dimension of the result from onnxruntime's shape inference, and its NCHWc layout pass
 * only keeps a Mul or Sum in blocked layout when it can prove the inputs' shapes equal: behind
 * one such Shape the whole backward pass went back and forth between layouts.
 */
export function shapeTarget(b: GraphBuilder, x: string, from: Dim[], op: 'Reshape' | 'Expand'): string {
  const shape = b.shapeOf(x);
  const lead = op === 'Expand' ? from.length - shape.length : 0;
  const dims: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d === 'number') dims.push(d);
    else if (from[i + lead] === d) dims.push(op === 'Reshape' ? 0 : 1);
    else return b.op('Shape', [x])[0];
  }
  // Reshape reads a 0 as "copy"; a real zero-sized dimension needs the runtime shape.
  if (op === 'Reshape' && shape.some((d) => d === 0)) return b.op('Shape', [x])[0];
  return b.int64s(dims);
}
