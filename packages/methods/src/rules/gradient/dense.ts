import type { BackwardRule, GraphBuilder, Tensor } from '@blameboard/core';
import { floatAttr, intAttr, unsupported } from '../attributes.js';
import { broadcastShapes, reduceToShape } from './broadcast.js';

const transFlags = (transA: number, transB: number) => ({
  transA: { type: 'int' as const, value: transA },
  transB: { type: 'int' as const, value: transB },
});

function scaled(b: GraphBuilder, value: string, factor: number): string {
  return factor === 1 ? value : b.op('Mul', [value, b.scalar(factor)])[0];
}

/**
 * Y = α·A′B′ + β·C with A′ = Aᵀ if transA, B′ likewise. The input gradient is α·G·B′ᵀ (transposed
 * back when transA), computed by one Gemm that reads the weights with flipped transpose flags.
 */
export const gemmGradient: BackwardRule = ({ node, b, upstream }) => {
  const g = upstream[0];
  const alpha = floatAttr(node, 'alpha', 1);
  const beta = floatAttr(node, 'beta', 1);
  const transA = intAttr(node, 'transA', 0);
  const transB = intAttr(node, 'transB', 0);
  const [a, w, c] = node.inputs;
  const dA = transA
    ? b.op('Gemm', [w, g], { ...transFlags(transB ? 1 : 0, 1), alpha: { type: 'float', value: alpha } })[0]
    : b.op('Gemm', [g, w], { ...transFlags(0, transB ? 0 : 1), alpha: { type: 'float', value: alpha } })[0];
  // Weights and biases are constants in a trained model; a weight computed from x gets its share too.
  const dB = b.initializer(w)
    ? null
    : transB
      ? b.op('Gemm', [g, a], { ...transFlags(1, transA ? 1 : 0), alpha: { type: 'float', value: alpha } })[0]
      : b.op('Gemm', [a, g], { ...transFlags(transA ? 0 : 1, 0), alpha: { type: 'float', value: alpha } })[0];
  const dC = c && !b.initializer(c) ? scaled(b, reduceToShape(b, g, b.shapeOf(node.outputs[0]), c), beta) : null;
  return [dA, dB, dC];
};

function transposeLast2(t: Tensor): Tensor {
  const rank = t.shape.length;
  const rows = t.shape[rank - 2];
  const cols = t.shape[rank - 1];
  const batch = t.data.length / (rows * cols);
  const src = t.data as Float32Array;
  const out = new Float32Array(src.length);
  for (let k = 0; k < batch; k++) {
    const o = k * rows * cols;
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[o + j * rows + i] = src[o + i * cols + j];
  }
  return { dtype: 'float32', shape: [...t.shape.slice(0, rank - 2), cols, rows], data: out };
}

function swapLast2(b: GraphBuilder, value: string): string {
  const init = b.initializer(value);
  if (init && init.dtype === 'float32') return b.constant(transposeLast2(init), `${value}_T`);
  const rank = b.shapeOf(value).length;
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return b.op('Transpose', [value], { perm: { type: 'ints', value: perm } })[0];
}

/** Y = A @ B with NumPy matmul broadcasting: dA = G @ Bᵀ, dB = Aᵀ @ G, each summed back to its input's shape. */
export const matMulGradient: BackwardRule = ({ node, b, upstream }) => {
  const g = upstream[0];
  const [a, w] = node.inputs;
  const aShape = b.shapeOf(a);
  const wShape = b.shapeOf(w);
  if (aShape.length < 2) throw unsupported(node, 'a 1-D left operand');
  if (wShape.length === 1) {
    // A[…, K] @ B[K] = Y[…]: every row of A meets the same vector.
    const gCol = b.op('Unsqueeze', [g, b.int64s([-1])])[0];
    const dA = b.op('Mul', [gCol, w])[0];
    return [dA, null];
  }
  const product = broadcastShapes(aShape.slice(0, -2), wShape.slice(0, -2));
  const dAFull = b.op('MatMul', [g, swapLast2(b, w)])[0];
  const dA = reduceToShape(b, dAFull, [...product, aShape[aShape.length - 2], aShape[aShape.length - 1]], a);
  let dB: string | null = null;
  if (!b.initializer(w)) {
    const dBFull = b.op('MatMul', [swapLast2(b, a), g])[0];
    dB = reduceToShape(b, dBFull, [...product, wShape[wShape.length - 2], wShape[wShape.length - 1]], w);
  }
  return [dA, dB];
};
