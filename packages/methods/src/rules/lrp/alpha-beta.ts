import { UsageError } from '@blameboard/core';
import type { LinearRule } from './linear-rule.js';
import { negativePart, positivePart } from './linear-layer.js';
import { divideStabilized } from './stabilize.js';

/**
 * LRP-αβ: positive contributions z^α = W⁺x⁺ + W⁻x⁻ + b⁺ get α·R, negative ones
 * z^β = W⁻x⁺ + W⁺x⁻ + b⁻ get −β·R, each split in proportion to the contributions.
 * (z^β is summed on its own rather than taken as z − z^α: a small z^β next to a large z^α would
 * lose its digits to the subtraction.)
 */
export function alphaBetaRule(alpha: number, beta: number): LinearRule {
  if (!(alpha >= 0 && beta >= 0) || Math.abs(alpha - beta - 1) > 1e-9) {
    throw new UsageError(`LRP alpha-beta needs alpha ≥ 0, beta ≥ 0 and alpha − beta = 1, got alpha = ${alpha}, beta = ${beta}`);
  }
  return (layer, R, { stabilizer, nonNegativeInput }) => {
    const { b, x } = layer;
    const wp = positivePart(layer.weight);
    const wn = negativePart(layer.weight);
    const bp = layer.bias && positivePart(layer.bias);
    const bn = layer.bias && negativePart(layer.bias);
    const add = (u: string, v: string) => b.op('Add', [u, v])[0];
    const mul = (u: string, v: string) => b.op('Mul', [u, v])[0];
    const scale = (u: string, f: number) => (f === 1 ? u : b.op('Mul', [u, b.scalar(f)])[0]);
    const xp = nonNegativeInput ? x : b.op('Relu', [x])[0];
    const xn = nonNegativeInput ? null : b.op('Min', [x, b.scalar(0)])[0];
    // z of one side: x⁺ meets `forPositive`, x⁻ meets `forNegative`.
    const sideZ = (forPositive: typeof wp, forNegative: typeof wp, bias: typeof bp): string => {
      const z = layer.forward(xp, forPositive, bias);
      return xn ? add(z, layer.forward(xn, forNegative, null)) : z;
    };

    const ra = scale(divideStabilized(b, R, sideZ(wp, wn, bp), stabilizer), alpha);
    let relevance: string;
    let biasRelevance = bp ? layer.biasRelevance(ra, bp) : undefined;
    if (beta === 0) {
      relevance = mul(xp, layer.backward(ra, wp));
      if (xn) relevance = add(relevance, mul(xn, layer.backward(ra, wn)));
    } else {
      const rb = scale(divideStabilized(b, R, sideZ(wn, wp, bn), stabilizer), -beta);
      relevance = mul(xp, layer.backwardSum([{ signal: ra, weight: wp }, { signal: rb, weight: wn }]));
      if (xn) relevance = add(relevance, mul(xn, layer.backwardSum([{ signal: ra, weight: wn }, { signal: rb, weight: wp }])));
      if (biasRelevance && bn) biasRelevance = add(biasRelevance, layer.biasRelevance(rb, bn));
    }
    return { relevance, biasRelevance };
  };
}
