import { alphaBetaRule } from './alpha-beta.js';
import type { LinearRule } from './linear-rule.js';

/** LRP-z⁺ (Zennit's ZPlus): αβ with α = 1, β = 0 — only positive contributions carry relevance. */
export function zPlusRule(): LinearRule {
  return alphaBetaRule(1, 0);
}
