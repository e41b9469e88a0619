import type { LinearRule } from './linear-rule.js';
import { divideStabilized } from './stabilize.js';

/** LRP-ε (ε = 0: LRP-0): R_i = x_i Σ_k w_ik R_k / s_ε(z_k). The bias absorbs its share of z. */
export function epsilonRule(epsilon: number): LinearRule {
  return (layer, R) => {
    const { b } = layer;
    const r = divideStabilized(b, R, layer.z, epsilon);
    const relevance = b.op('Mul', [layer.x, layer.backward(r, layer.weight)])[0];
    return { relevance, biasRelevance: layer.bias ? layer.biasRelevance(r, layer.bias) : undefined };
  };
}
