import type { GraphBuilder } from '@blameboard/core';

/**
 * s(z) = z + ε·sign(z) with sign(0) = +1 (Zennit's `stabilize`): never 0 for ε > 0. The shift
 * ε − 2ε·[z < 0] is built from a Cast mask because onnxruntime's Where with scalar branches runs
 * single-threaded at ~1.3 ns per element (4 ms on a 256×16×24×24 activation); the shift is
 * exactly ±ε, so s(z) is bit-for-bit the same.
 */
export function stabilized(b: GraphBuilder, z: string, epsilon: number): string {
  const isNegative = b.op('Cast', [b.op('Less', [z, b.scalar(0)])[0]], { to: { type: 'int', value: 1 } })[0];
  const shift = b.op('Add', [b.op('Mul', [isNegative, b.scalar(-2 * epsilon)])[0], b.scalar(epsilon)])[0];
  return b.op('Add', [z, shift])[0];
}

/**
 * R / s(z). With ε = 0 (LRP-0) a zero denominator would give 0/0 = NaN where a unit is exactly
 * inactive (zero input patches of a bias-free conv, for instance); such units pass nothing.
 */
export function divideStabilized(b: GraphBuilder, relevance: string, z: string, epsilon: number): string {
  if (epsilon > 0) return b.op('Div', [relevance, stabilized(b, z, epsilon)])[0];
  const isZero = b.op('Equal', [z, b.scalar(0)])[0];
  const safe = b.op('Where', [isZero, b.scalar(1), z])[0];
  const quotient = b.op('Div', [relevance, safe])[0];
  return b.op('Where', [isZero, b.scalar(0), quotient])[0];
}
