import type { LinearRule } from './linear-rule.js';
import { mapTensor } from './linear-layer.js';
import { divideStabilized } from './stabilize.js';

/** LRP-w²: R_i = Σ_k w²_ik R_k / s(Σ_i w²_ik + b²_k) — the input values play no part. */
export function wSquareRule(): LinearRule {
  return (layer, R, { stabilizer }) => {
    const w2 = mapTensor(layer.weight, (w) => w * w);
    const b2 = layer.bias && mapTensor(layer.bias, (v) => v * v);
    const z = layer.forward(layer.inputConstant(1, 'ones'), w2, b2);
    const r = divideStabilized(layer.b, R, z, stabilizer);
    return { relevance: layer.backward(r, w2), biasRelevance: b2 ? layer.biasRelevance(r, b2) : undefined };
  };
}
