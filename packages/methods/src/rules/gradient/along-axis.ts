import type { GraphBuilder } from '@blameboard/core';

/**
 * out[…, r, …] = Σ_c M[r, c] · value[…, c, …] along `axis`: a linear map applied to one axis
 * (the interpolation of a Resize, the selection of a strided Slice, or their transposes). The
 * last two axes take one broadcasting MatMul; others are moved last and back.
 */
export function mapAlongAxis(b: GraphBuilder, value: string, rank: number, axis: number, m: { rows: number; cols: number; data: Float32Array }): string {
  if (axis === rank - 2) {
    return b.op('MatMul', [b.constant({ dtype: 'float32', shape: [m.rows, m.cols], data: m.data }, 'bb_axis_map'), value])[0];
  }
  const transposed = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) transposed[c * m.rows + r] = m.data[r * m.cols + c];
  const mt = b.constant({ dtype: 'float32', shape: [m.cols, m.rows], data: transposed }, 'bb_axis_map_T');
  if (axis === rank - 1) return b.op('MatMul', [value, mt])[0];
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[axis] = rank - 1;
  perm[rank - 1] = axis;
  const moved = b.op('Transpose', [value], { perm: { type: 'ints', value: perm } })[0];
  return b.op('Transpose', [b.op('MatMul', [moved, mt])[0]], { perm: { type: 'ints', value: perm } })[0];
}

/** Mᵀ of a row-major [rows, cols] matrix. */
export function transposed(m: { rows: number; cols: number; data: Float32Array }): { rows: number; cols: number; data: Float32Array } {
  const data = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) data[c * m.rows + r] = m.data[r * m.cols + c];
  return { rows: m.cols, cols: m.rows, data };
}
