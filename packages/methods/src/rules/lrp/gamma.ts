import type { LinearRule } from './linear-rule.js';
import { mapTensor, positivePart } from './linear-layer.js';
import { divideStabilized } from './stabilize.js';

/**
 * Zennit's generalized LRP-γ. Pw = W + γW⁺, Nw = W + γW⁻ (biases likewise). Units with z > 0
 * split R_k in proportion to x⁺·Pw + x⁻·Nw (the contributions that push z up, favoured by γ),
 * units with z < 0 in proportion to x⁺·Nw + x⁻·Pw; units with z = 0 pass nothing.
 *
 * The denominators need one extra forward pass, not two: with a = x⁺W⁺ + x⁻W⁻ + b⁺ (the positive
 * contributions), p = z + γa and n = z + γ(z − a), because the negative contributions are z − a.
 * n is only used where z < 0, where |z − a| ≥ a, so the subtraction loses nothing.
 */
export function gammaRule(gamma: number): LinearRule {
  return (layer, R, { stabilizer, nonNegativeInput }) => {
    const { b, x } = layer;
    const wPlus = positivePart(layer.weight);
    const pw = mapTensor(layer.weight, (w) => w + gamma * Math.max(w, 0));
    const nw = mapTensor(layer.weight, (w) => w + gamma * Math.min(w, 0));
    const bPlus = layer.bias && positivePart(layer.bias);
    const zero = b.scalar(0);
    const add = (u: string, v: string) => b.op('Add', [u, v])[0];
    const mul = (u: string, v: string) => b.op('Mul', [u, v])[0];
    const g = b.scalar(gamma);
    const z = layer.z;

    const xp = nonNegativeInput ? x : b.op('Relu', [x])[0];
    const xn = nonNegativeInput ? null : b.op('Min', [x, zero])[0];
    let a = layer.forward(xp, wPlus, bPlus);
    if (xn) a = add(a, layer.forward(xn, mapTensor(layer.weight, (w) => Math.min(w, 0)), null));
    const p = add(z, mul(g, a));
    const n = add(z, mul(g, b.op('Sub', [z, a])[0]));

    // R·[z > 0] and R·[z < 0] as products with Cast masks: onnxruntime's Where is several times slower.
    const toFloat = { to: { type: 'int' as const, value: 1 } };
    const rPositive = mul(R, b.op('Cast', [b.op('Greater', [z, zero])[0]], toFloat)[0]);
    const rNegative = mul(R, b.op('Cast', [b.op('Less', [z, zero])[0]], toFloat)[0]);
    const rp = divideStabilized(b, rPositive, p, stabilizer);
    const rn = divideStabilized(b, rNegative, n, stabilizer);
    let relevance = mul(xp, layer.backwardSum([{ signal: rp, weight: pw }, { signal: rn, weight: nw }]));
    if (xn) relevance = add(relevance, mul(xn, layer.backwardSum([{ signal: rp, weight: nw }, { signal: rn, weight: pw }])));

    let biasRelevance: string | undefined;
    if (layer.bias) {
      const pb = mapTensor(layer.bias, (v) => v + gamma * Math.max(v, 0));
      const nb = mapTensor(layer.bias, (v) => v + gamma * Math.min(v, 0));
      biasRelevance = add(layer.biasRelevance(rp, pb), layer.biasRelevance(rn, nb));
    }
    return { relevance, biasRelevance };
  };
}
