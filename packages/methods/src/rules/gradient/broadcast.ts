import type { Dim, GraphBuilder } from '@blameboard/core';

/**
 * The adjoint of NumPy broadcasting: sums `signal` (shaped like the broadcast result `outShape`)
 * over the axes along which `input` was stretched, and reshapes it to `input`'s shape.
 */
export function reduceToShape(b: GraphBuilder, signal: string, outShape: Dim[], input: string): string {
  const inShape = b.shapeOf(input);
  const lead = outShape.length - inShape.length;
  const padded: Dim[] = [...Array(Math.max(lead, 0)).fill(1), ...inShape];
  const axes: number[] = [];
  for (let i = 0; i < outShape.length; i++) {
    if (padded[i] === 1 && outShape[i] !== 1) axes.push(i);
  }
  let out = signal;
  if (axes.length > 0) out = b.op('ReduceSum', [out, b.int64s(axes)], { keepdims: { type: 'int', value: 1 } })[0];
  if (lead !== 0) {
    const target = inShape.every((d) => typeof d === 'number') ? b.int64s(inShape as number[]) : b.op('Shape', [input])[0];
    out = b.op('Reshape', [out, target])[0];
  }
  return out;
}

/** Shape of the broadcast result of two shapes (symbols win over 1). */
export function broadcastShapes(a: Dim[], b: Dim[]): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    out.push(da === 1 ? db : da);
  }
  return out;
}
