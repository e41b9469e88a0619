import { UsageError } from '@blameboard/core';
import { alphaBetaRule } from './alpha-beta.js';
import { epsilonRule } from './epsilon.js';
import { flatRule } from './flat.js';
import { gammaRule } from './gamma.js';
import type { LinearRule } from './linear-rule.js';
import { wSquareRule } from './w-square.js';
import { zBoxRule, type Bound } from './z-box.js';
import { zPlusRule } from './z-plus.js';

/** Rule names, as Zennit 0.5.1 calls them (`lrp-0` is `epsilon` with ε = 0). */
export const LRP_RULES = ['epsilon', 'lrp-0', 'gamma', 'alpha-beta', 'z-plus', 'z-box', 'flat', 'w-square'] as const;
export type LrpRuleName = (typeof LRP_RULES)[number];

export const LRP_COMPOSITES = [
  'epsilon',
  'gamma',
  'z-plus',
  'alpha-beta',
  'epsilon-gamma-box',
  'epsilon-plus',
  'epsilon-alpha2-beta1',
  'epsilon-plus-flat',
  'epsilon-alpha2-beta1-flat',
] as const;
export type LrpComposite = (typeof LRP_COMPOSITES)[number];

/** The numeric parameters rules read; a layer rule may override any of them for its layer. */
export interface RuleParams {
  epsilon: number;
  gamma: number;
  alpha: number;
  beta: number;
  low: Bound;
  high: Bound;
}

/** A rule for one layer: its name and the parameters it overrides. */
export interface RuleChoice extends Partial<RuleParams> {
  rule: LrpRuleName;
}

export type LayerKind = 'conv' | 'dense';

/** Which rule a composite puts on a linear layer: (kind, is it the first linear layer?) → rule. */
export type CompositeMap = (kind: LayerKind, first: boolean) => RuleChoice;

const alpha2beta1: RuleChoice = { rule: 'alpha-beta', alpha: 2, beta: 1 };

/** SPEC §3.1's table, which is Zennit 0.5.1's composites (`first_map` applies to conv layers only, except for the -flat ones). */
export const COMPOSITE_MAPS: Readonly<Record<LrpComposite, CompositeMap>> = {
  epsilon: () => ({ rule: 'epsilon' }),
  gamma: () => ({ rule: 'gamma' }),
  'z-plus': () => ({ rule: 'z-plus' }),
  'alpha-beta': () => ({ rule: 'alpha-beta' }),
  'epsilon-gamma-box': (kind, first) => (kind === 'conv' ? { rule: first ? 'z-box' : 'gamma' } : { rule: 'epsilon' }),
  'epsilon-plus': (kind) => (kind === 'conv' ? { rule: 'z-plus' } : { rule: 'epsilon' }),
  'epsilon-alpha2-beta1': (kind) => (kind === 'conv' ? alpha2beta1 : { rule: 'epsilon' }),
  'epsilon-plus-flat': (kind, first) => (first ? { rule: 'flat' } : kind === 'conv' ? { rule: 'z-plus' } : { rule: 'epsilon' }),
  'epsilon-alpha2-beta1-flat': (kind, first) => (first ? { rule: 'flat' } : kind === 'conv' ? alpha2beta1 : { rule: 'epsilon' }),
};

/** Deep Taylor decomposition: z-box on the first linear layer, z⁺ on every other. */
export const DEEP_TAYLOR: CompositeMap = (_kind, first) => ({ rule: first ? 'z-box' : 'z-plus' });

export function compositeMap(name: string): CompositeMap {
  if (!(LRP_COMPOSITES as readonly string[]).includes(name)) {
    throw new UsageError(`unknown LRP composite '${name}'; known composites: ${LRP_COMPOSITES.join(', ')}`);
  }
  return COMPOSITE_MAPS[name as LrpComposite];
}

/** Builds the rule a choice names, its parameters taken from the choice, else from `defaults`. */
export function makeLinearRule(choice: RuleChoice, defaults: RuleParams): LinearRule {
  const p = { ...defaults, ...choice };
  switch (choice.rule) {
    case 'epsilon':
      return epsilonRule(p.epsilon);
    case 'lrp-0':
      return epsilonRule(0);
    case 'gamma':
      return gammaRule(p.gamma);
    case 'alpha-beta':
      return alphaBetaRule(p.alpha, p.beta);
    case 'z-plus':
      return zPlusRule();
    case 'z-box':
      return zBoxRule(p.low, p.high);
    case 'flat':
      return flatRule();
    case 'w-square':
      return wSquareRule();
  }
}

/** `{ layer, rule, …params }`: overrides the composite on the layer-th linear layer (0-based, from the input). */
export interface LayerRule extends RuleChoice {
  layer: number;
}

const LAYER_RULE_KEYS = ['layer', 'rule', 'epsilon', 'gamma', 'alpha', 'beta', 'low', 'high'];

/**
 * Validates the resolved `layerRules` parameter (its default, [], comes from `lrpParams`); JSON
 * null also means no overrides. Every mistake is a one-line UsageError naming what is allowed.
 */
export function parseLayerRules(value: unknown): LayerRule[] {
  if (value === null) return [];
  if (!Array.isArray(value)) throw new UsageError(`LRP layerRules must be an array of { layer, rule, …parameters }, got ${JSON.stringify(value)}`);
  return value.map((entry, i): LayerRule => {
    const where = `LRP layerRules[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new UsageError(`${where} must be an object { layer, rule, …parameters }`);
    const e = entry as Record<string, unknown>;
    for (const key of Object.keys(e)) {
      if (!LAYER_RULE_KEYS.includes(key)) throw new UsageError(`${where}: unknown key '${key}'; known keys: ${LAYER_RULE_KEYS.join(', ')}`);
    }
    if (typeof e.layer !== 'number' || !Number.isInteger(e.layer) || e.layer < 0) {
      throw new UsageError(`${where}: 'layer' must be a linear-layer index ≥ 0, got ${JSON.stringify(e.layer)}`);
    }
    if (typeof e.rule !== 'string' || !(LRP_RULES as readonly string[]).includes(e.rule)) {
      throw new UsageError(`${where}: unknown LRP rule ${JSON.stringify(e.rule)}; known rules: ${LRP_RULES.join(', ')}`);
    }
    const out: LayerRule = { layer: e.layer, rule: e.rule as LrpRuleName };
    for (const key of ['epsilon', 'gamma', 'alpha', 'beta'] as const) {
      if (e[key] === undefined) continue;
      if (typeof e[key] !== 'number' || !Number.isFinite(e[key]) || (e[key] as number) < 0) {
        throw new UsageError(`${where}: '${key}' must be a finite number ≥ 0, got ${JSON.stringify(e[key])}`);
      }
      out[key] = e[key] as number;
    }
    for (const key of ['low', 'high'] as const) {
      if (e[key] === undefined) continue;
      out[key] = parseBound(e[key], `${where}: '${key}'`);
    }
    return out;
  });
}

/** A z-box bound: a number or an array of numbers (per channel or per element). */
export function parseBound(value: unknown, where: string): Bound {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) return value as number[];
  throw new UsageError(`${where} must be a finite number or a non-empty array of numbers (per channel), got ${JSON.stringify(value)}`);
}
