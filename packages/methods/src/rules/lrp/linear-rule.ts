import type { LinearLayer } from './linear-layer.js';

/** What every linear-layer rule shares: Zennit's `stabilizer` and whether x may be negative. */
export interface LinearRuleContext {
  stabilizer: number;
  /**
   * True when the layer input is provably ≥ 0 (it comes from a ReLU, possibly through pooling
   * or reshaping): x⁻ = 0 then, and the rules skip the passes that would only multiply zeros.
   */
  nonNegativeInput: boolean;
}

export interface LinearRuleResult {
  /** Relevance of the layer input, shaped like it. */
  relevance: string;
  /** The bias's share per sample [N], when the rule gives the bias one (a virtual input of constant 1). */
  biasRelevance?: string;
}

/** An LRP rule for one linear layer: upper relevance R (shaped like z) → input relevance. */
export type LinearRule = (layer: LinearLayer, relevance: string, ctx: LinearRuleContext) => LinearRuleResult;
