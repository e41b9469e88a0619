import { UsageError, type BackwardContext, type BackwardRule, type IrGraph, type IrNode, type RuleSet } from '@blameboard/core';
import { elementwiseUnit, liveIn } from '../elementwise-unit.js';
import { reduceToShape } from '../gradient/broadcast.js';
import { GRADIENT_RULES, ruleFromTable } from '../gradient/index.js';
import { makeLinearRule, type CompositeMap, type LayerKind, type LayerRule, type RuleParams } from './composites.js';
import { linearLayer, type LinearLayer } from './linear-layer.js';
import type { LinearRule } from './linear-rule.js';
import { maxPoolRule, type MaxPoolMode } from './maxpool.js';
import { isNonNegative } from './non-negative.js';
import { normRule } from './norm.js';

export type BiasMode = 'absorb' | 'zero' | 'explicit';
export const BIAS_MODES: readonly BiasMode[] = ['absorb', 'zero', 'explicit'];

/**
 * How relevance crosses joins of two activations that no layer rule covers (docs/decisions.md,
 * "LRP through gates, residual sums and unfoldable BatchNorms"):
 * - `constant`: a product's gate is a constant weight of the signal it scales (CP-LRP, AttnLRP),
 *   sums use the ε rule (Norm): conservation holds;
 * - `gradient`: Zennit 0.5.1 — its modified gradient flows through products by the product
 *   rule and through sums outside ResNet blocks as the gradient.
 * An unfoldable BatchNorm passes relevance in both (Zennit 0.5.1 gives BatchNorm its Pass rule).
 */
export type GateMode = 'constant' | 'gradient';
export const GATE_MODES: readonly GateMode[] = ['constant', 'gradient'];

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
  gates: GateMode;
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

/**
 * Ops whose relevance flow is the gradient's: they move, copy, crop or interpolate elements
 * (Resize's weights sum to 1 per output, so its transpose conserves relevance; Zennit's
 * functional interpolation is the gradient too).
 */
const STRUCTURAL = ['Flatten', 'Reshape', 'Squeeze', 'Unsqueeze', 'Transpose', 'Concat', 'Pad', 'Slice', 'Split', 'Resize'];
/** Elementwise activations: relevance passes unchanged (Zennit's Pass). */
const ACTIVATIONS = [
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'Softplus', 'Softsign', 'Elu', 'Selu', 'Celu', 'HardSigmoid',
  'HardSwish', 'Gelu', 'Clip', 'Erf', 'Identity', 'Dropout', 'Cast',
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
    Neg: passFirst,
    AveragePool: norm,
    GlobalAveragePool: norm,
    ReduceMean: norm,
    MaxPool: maxPoolRule(settings.maxpool, settings.stabilizer),
    GlobalMaxPool: maxPoolRule(settings.maxpool, settings.stabilizer),
  };
  // Joins of two activations: the rule depends on the node's neighbours, read from the forward graph.
  const joins: Record<string, (node: IrNode, graph: IrGraph) => BackwardRule> = {
    Add: (node, graph) => sumRule(norm, settings.gates, graph, node),
    Sum: (node, graph) => sumRule(norm, settings.gates, graph, node),
    Sub: (node, graph) => sumRule(norm, settings.gates, graph, node),
    Mul: (node, graph) => productRule(settings.gates, graph, node),
    Div: (node, graph) => productRule(settings.gates, graph, node),
  };
  // A BatchNormalization left after folding (before a conv, as in DenseNet) passes relevance, as
  // Zennit 0.5.1's composites map BatchNorm to Pass; skip the gradient table's training-mode check.
  const lookup = (node: IrNode, graph: IrGraph): BackwardRule => {
    if (node.opType === 'BatchNormalization') return passFirst;
    const join = joins[node.opType];
    if (join && (node.domain === '' || node.domain === 'ai.onnx')) return join(node, graph);
    return ruleFromTable(table, node);
  };

  return {
    linearLayers,
    ruleFor(node, linearIndex, linearCount, graph) {
      if (linearIndex === null) return lookup(node, graph);
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
    const relevance = layer.nodeInputRelevance(result.relevance);
    return ctx.node.inputs.map((_, i) => (i === 0 ? relevance : null));
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

/** The inputs of the node that depend on the model input (the others are constants to the explanation). */
function liveInputs(ctx: BackwardContext): string[] {
  const live = liveIn(ctx.graph);
  return ctx.node.inputs.filter((i) => i && live(i));
}

/** With one activation and constants (a bias add, a scaling, input normalisation) the elementwise map passes relevance unchanged. */
function passToLive(ctx: BackwardContext, live: string[]): (string | null)[] {
  return ctx.node.inputs.map((input) => (live.includes(input) ? ctx.upstream[0] : null));
}

/**
 * Add/Sum/Sub of two or more activations (a residual join): the ε rule (Norm). In `gradient`
 * mode Zennit's: Norm only for a ResNet block's sum (the join a ReLU follows, which
 * ResNetCanonizer turns into a Sum module), the plain gradient for any other functional sum.
 */
function sumRule(norm: BackwardRule, gates: GateMode, graph: IrGraph, node: IrNode): BackwardRule {
  const zennitFunctional = gates === 'gradient' && !feedsOnlyRelu(graph, node);
  return (ctx) => {
    const live = liveInputs(ctx);
    if (live.length < 2) return passToLive(ctx, live);
    return zennitFunctional ? GRADIENT_RULES[ctx.node.opType](ctx) : norm(ctx);
  };
}

function feedsOnlyRelu(graph: IrGraph, node: IrNode): boolean {
  const users = graph.nodes.filter((n) => n.inputs.includes(node.outputs[0]));
  return users.length > 0 && users.every((n) => n.opType === 'Relu');
}

/**
 * Mul/Div of two activations. An elementwise nonlinearity of one activation (x·σ(x), the
 * HardSwish patterns) passes relevance to that activation, as the activation module it is.
 * Otherwise a gate: `gradient` — the product rule on relevance (Zennit); `constant` — the gate
 * is a constant weight, the signal it scales keeps all the relevance.
 */
function productRule(gates: GateMode, graph: IrGraph, node: IrNode): BackwardRule {
  const unit = elementwiseUnit(graph, node, liveIn(graph));
  return (ctx) => {
    const live = liveInputs(ctx);
    if (live.length < 2) return passToLive(ctx, live);
    if (unit) {
      ctx.send(unit.source, ctx.upstream[0]);
      return ctx.node.inputs.map(() => null);
    }
    if (gates === 'gradient') return GRADIENT_RULES[ctx.node.opType](ctx);
    return constantGate(ctx);
  };
}

/** Producers whose output lies in [0, 1]: what gates a signal (sigmoid and hard-sigmoid gates, attention weights). */
function isGateActivation(graph: IrGraph, value: string): boolean {
  const producer = graph.nodes.find((n) => n.outputs[0] === value);
  if (!producer) return false;
  if (['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Expand', 'Transpose'].includes(producer.opType)) return isGateActivation(graph, producer.inputs[0]);
  if (['Sigmoid', 'HardSigmoid', 'Softmax'].includes(producer.opType)) return true;
  if (producer.opType === 'Clip') {
    const bound = (i: number) => {
      const t = producer.inputs[i] ? graph.initializers.get(producer.inputs[i]) : undefined;
      return t ? Number(t.data[0]) : undefined;
    };
    const lo = bound(1);
    const hi = bound(2);
    return lo !== undefined && hi !== undefined && lo >= 0 && hi <= 1;
  }
  return false;
}

/**
 * The gate is a constant weight of the signal it scales: y = s ⊙ g passes all of R to s, none to
 * g, so relevance is conserved. The gate is the divisor of a quotient; of a product, the operand
 * broadcast over the other (a squeeze-excitation scale [N, C, 1, 1]), else the one a sigmoid-like
 * activation produced. Two operands alike split R evenly (AttnLRP's uniform rule for products).
 */
function constantGate(ctx: BackwardContext): (string | null)[] {
  const { node, b, graph, upstream } = ctx;
  const [x, y] = node.inputs;
  if (node.opType === 'Div') return [upstream[0], null];
  const out = b.shapeOf(node.outputs[0]);
  const full = (v: string) => {
    const s = b.shapeOf(v);
    return s.length === out.length && s.every((d, i) => d === out[i]);
  };
  let gate: 0 | 1 | null = null;
  if (full(x) !== full(y)) gate = full(x) ? 1 : 0;
  else if (isGateActivation(graph, x) !== isGateActivation(graph, y)) gate = isGateActivation(graph, x) ? 0 : 1;
  if (gate !== null) return node.inputs.map((_, i) => (i === gate ? null : reduceToShape(b, upstream[0], out, node.inputs[i])));
  const half = b.op('Mul', [upstream[0], b.scalar(0.5)])[0];
  return [reduceToShape(b, half, out, x), reduceToShape(b, half, out, y)];
}
