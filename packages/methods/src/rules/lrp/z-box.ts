import type { LinearRule } from './linear-rule.js';
import { negativePart, positivePart } from './linear-layer.js';
import { divideStabilized } from './stabilize.js';

/** Lowest and highest input values: a scalar, one per channel, or one per input element. */
export type Bound = number | readonly number[];

/**
 * LRP-z^B for inputs known to lie in [L, H] (the first layer on pixels):
 * z = Wx − W⁺L − W⁻H (the bias cancels), R_i = x_i(Wr)_i − L_i(W⁺r)_i − H_i(W⁻r)_i with r = R/s(z).
 * Since W⁻ = W − W⁺, R = (x − H)·(Wr) + (H − L)·(W⁺r): two transposed passes instead of three,
 * and Wx is the forward pass's z minus the bias.
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
    const relevance = b.op('Add', [mul(sub(x, highInput), layer.backward(r, layer.weight)), mul(sub(highInput, lowInput), layer.backward(r, wp))])[0];
    return { relevance };
  };
}
