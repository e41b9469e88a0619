import { COMPOSITE_MAPS } from '../composites.js';
import { lrpRuleSet, type LrpRuleSet } from '../ruleset.js';

/** A composite's rule set with fixed parameters (ε 1e-6, γ 0.25, α2β1, bounds [0, 1]), bias absorbed and constant gates. */
export function compositeRules(composite: keyof typeof COMPOSITE_MAPS): LrpRuleSet {
  return lrpRuleSet({
    composite: COMPOSITE_MAPS[composite],
    params: { epsilon: 1e-6, gamma: 0.25, alpha: 2, beta: 1, low: 0, high: 1 },
    layerRules: [],
    stabilizer: 1e-6,
    bias: 'absorb',
    maxpool: 'winner-take-all',
    gates: 'constant',
  });
}
