import { UsageError, type BackwardContext, type BackwardRule, type IrGraph, type IrNode, type RuleSet } from '@blameboard/core';
import { unsupported } from '../attributes.js';
import { GRADIENT_RULES, ruleFromTable } from '../gradient/index.js';
import { makeLinearRule, type CompositeMap, type LayerKind, type LayerRule, type RuleParams } from './composites.js';
import { linearLayer, type LinearLayer } from './linear-layer.js';
import type { LinearRule } from './linear-rule.js';
import { maxPoolRule, type MaxPoolMode } from './maxpool.js';
import { isNonNegative } from './non-negative.js';
import { normRule } from './norm.js';

export type BiasMode = 'absorb' | 'zero' | 'explicit';
export const BIAS_MODES: readonly BiasMode[] = ['absorb', 'zero', 'explicit'];

export interface LrpSettings {
  /** Which rule goes on which linear layer (a composite, or Deep Taylor's). */
  composite: CompositeMap;
  /** Defaults of the rules' parameters. */
  params: RuleParams;
  layerRules: LayerRule[];
  /** Zennit's stabilizer: denominators of every rule but ε, and of the Norm rule. */
  stabilizer: number;
  bias: BiasMode;
  maxpool: MaxPoolMode;
  /** Every input this compile will see is ≥ 0 (pixels in [0, 1]): first layers may skip their x⁻ passes. */
  inputNonNegative?: boolean;
}

/** A linear layer the rule set was asked about, and the rule it got. */
export interface LinearLayerRecord {
  index: number;
  name: string;
  rule: string;
}

export interface LrpRuleSet extends RuleSet {
  /** Filled while the compiler asks for rules: every linear layer on the path, by index. */
  readonly linearLayers: LinearLayerRecord[];
}

/** The extra output under which the linearIndex-th linear layer's bias relevance [N] is exposed (`bias: explicit`). */
export function biasOutputName(linearIndex: number): string {
  return `bias_relevance:${linearIndex}`;
}

/** Ops whose relevance flow is the gradient's: they only move, copy or crop elements. */
const STRUCTURAL = ['Flatten', 'Reshape', 'Squeeze', 'Unsqueeze', 'Transpose', 'Concat', 'Pad'];
/** Elementwise monotone activations: relevance passes unchanged (Zennit's Pass). */
const ACTIVATIONS = [
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'Softplus', 'Softsign', 'Elu', 'Selu', 'Celu', 'HardSigmoid',
  'HardSwish', 'Gelu', 'Clip', 'Erf', 'Identity', 'Dropout',
];

const passFirst: BackwardRule = ({ node, upstream }) => node.inputs.map((_, i) => (i === 0 ? upstream[0] : null));

/**
 * The LRP rule set: a linear-layer rule per Conv/ConvTranspose/Gemm/MatMul (from `layerRules`,
 * else the composite), Pass for activations and unfoldable BatchNorms, Norm for average pooling
 * and sums of activations, winner-take-all or proportional max pooling, and the gradient for
 * ops that only move elements.
 */
export function lrpRuleSet(settings: LrpSettings): LrpRuleSet {
  const linearLayers: LinearLayerRecord[] = [];
  const norm = normRule(settings.stabilizer);
  const table: Record<string, BackwardRule> = {
    ...Object.fromEntries(STRUCTURAL.map((op) => [op, GRADIENT_RULES[op]])),
    ...Object.fromEntries(ACTIVATIONS.map((op) => [op, passFirst])),
    BatchNormalization: passFirst,
    Neg: passFirst,
    AveragePool: norm,
    GlobalAveragePool: norm,
    MaxPool: maxPoolRule(settings.maxpool, settings.stabilizer),
    GlobalMaxPool: maxPoolRule(settings.maxpool, settings.stabilizer),
    Add: arithmetic(norm),
    Sum: arithmetic(norm),
    Sub: arithmetic(norm),
    Mul: arithmetic(null),
    Div: arithmetic(null),
  };
  // BatchNormalization passes whatever its mode; skip the gradient table's training-mode check.
  const lookup = (node: IrNode): BackwardRule => (node.opType === 'BatchNormalization' ? passFirst : ruleFromTable(table, node));

  return {
    linearLayers,
    ruleFor(node, linearIndex, linearCount) {
      if (linearIndex === null) return lookup(node);
      for (const lr of settings.layerRules) {
        if (lr.layer >= linearCount) {
          throw new UsageError(`LRP layerRules names linear layer ${lr.layer}, but the model has ${linearCount} (indices 0–${linearCount - 1})`);
        }
      }
      const kind: LayerKind = node.opType === 'Conv' || node.opType === 'ConvTranspose' ? 'conv' : 'dense';
      const override = [...settings.layerRules].reverse().find((lr) => lr.layer === linearIndex);
      const choice = override ?? settings.composite(kind, linearIndex === 0);
      const rule = makeLinearRule(choice, settings.params);
      linearLayers.push({ index: linearIndex, name: node.name, rule: choice.rule });
      return linearBackward(rule, settings);
    },
  };
}

function linearBackward(rule: LinearRule, settings: LrpSettings): BackwardRule {
  return (ctx) => {
    let layer = linearLayer(ctx);
    if (settings.bias === 'zero' && layer.bias) layer = withoutBias(layer);
    const nonNegativeInput = isNonNegative(ctx.graph, layer.x, settings.inputNonNegative ?? false);
    const result = rule(layer, ctx.upstream[0], { stabilizer: settings.stabilizer, nonNegativeInput });
    if (settings.bias === 'explicit' && result.biasRelevance) {
      const batch = ctx.b.shapeOf(layer.x)[0];
      ctx.b.output(result.biasRelevance, biasOutputName(ctx.linearIndex!), [batch]);
    }
    return ctx.node.inputs.map((_, i) => (i === 0 ? result.relevance : null));
  };
}

/** The layer with its bias set to 0 inside the rules: z is recomputed without it, on demand. */
function withoutBias(layer: LinearLayer): LinearLayer {
  let z: string | undefined;
  return {
    ...layer,
    bias: null,
    get z() {
      z ??= layer.forward(layer.x, layer.weight, null);
      return z;
    },
  };
}

/**
 * Add/Sum/Sub of two or more activations (a residual join): Norm. With one activation and constants
 * (a bias add, input normalisation, scaling): the elementwise map passes relevance unchanged.
 * Products or quotients of two activations have no LRP rule.
 */
function arithmetic(norm: BackwardRule | null): BackwardRule {
  return (ctx) => {
    const live = liveInputs(ctx);
    if (live.length >= 2) {
      if (!norm) throw unsupported(ctx.node, 'LRP has no rule for a product or quotient of two activations');
      return norm(ctx);
    }
    return ctx.node.inputs.map((input) => (live.includes(input) ? ctx.upstream[0] : null));
  };
}

const dependents = new WeakMap<IrGraph, Set<string>>();

/** The node's inputs that depend on the model input (the others are constants to the explanation). */
function liveInputs(ctx: BackwardContext): string[] {
  let reached = dependents.get(ctx.graph);
  if (!reached) {
    reached = new Set([ctx.graph.inputs[0].name]);
    for (const node of ctx.graph.nodes) {
      if (node.inputs.some((i) => i && reached!.has(i))) for (const o of node.outputs) if (o) reached.add(o);
    }
    dependents.set(ctx.graph, reached);
  }
  return ctx.node.inputs.filter((i) => i && reached.has(i));
}
