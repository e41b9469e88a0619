import type { LinearRule } from './linear-rule.js';
import { negativePart, positivePart } from './linear-layer.js';
import { divideStabilized } from './stabilize.js';

/** Lowest and highest input values: a scalar, one per channel, or one per input element. */
export type Bound = number | readonly number[];

/**
 * LRP-z^B for inputs known to lie in [L, H] (the first layer on pixels):
 * z = Wx − W⁺L − W⁻H (the bias cancels), R = x⊙(Wᵀr) − L⊙(W⁺ᵀr) − H⊙(W⁻ᵀr) with r = R/s(z),
 * three transposed passes as Zennit computes it. The shorter (x − H)⊙(Wᵀr) + (H − L)⊙(W⁺ᵀr)
 * is the same in exact arithmetic but not in float32: where zero padding makes z exactly 0 on a
 * background window, r reaches R/ε, and the two large terms cancel to errors of 1e-2·max|R| on
 * border pixels; here each huge r meets an exact zero (x = 0, L = 0, or W⁻ only over the padding).
 */
export function zBoxRule(low: Bound, high: Bound): LinearRule {
  return (layer, R, { stabilizer }) => {
    const { b, x } = layer;
    const wp = positivePart(layer.weight);
    const wn = negativePart(layer.weight);
    const lowInput = layer.inputConstant(low, 'low');
    const highInput = layer.inputConstant(high, 'high');
    const sub = (u: string, v: string) => b.op('Sub', [u, v])[0];
    const mul = (u: string, v: string) => b.op('Mul', [u, v])[0];
    // W⁺L + W⁻H does not depend on x: onnxruntime folds it once per session.
    const bounds = b.op('Add', [layer.forward(lowInput, wp, null), layer.forward(highInput, wn, null)])[0];
    const z = sub(layer.linearPart(), bounds);
    const r = divideStabilized(b, R, z, stabilizer);
    const lower = b.op('Add', [mul(lowInput, layer.backward(r, wp)), mul(highInput, layer.backward(r, wn))])[0];
    return { relevance: sub(mul(x, layer.backward(r, layer.weight)), lower) };
  };
}
