import type { BackwardContext, BackwardRule, GraphBuilder, IrGraph, IrNode, RuleSet } from '@blameboard/core';
import { intsAttr } from './attributes.js';
import { elementwiseUnit, liveIn, type ElementwiseUnit } from './elementwise-unit.js';
import { ACTIVATIONS, derivatives } from './gradient/activation.js';
import { reduceToShape } from './gradient/broadcast.js';
import { GRADIENT_RULES, ruleFromTable } from './gradient/index.js';
import { disjointWindows, globalMaxPoolGradient, maxPoolIndices, routeToIndices, scatterToIndices } from './gradient/pool.js';

/** Below this |Δz| the Rescale multiplier falls back to g′(z) (Captum's eps). */
export const DEEPLIFT_EPS = 1e-10;

function baselineOf(ctx: BackwardContext): (name: string) => string {
  if (!ctx.baselineValue) throw new Error('DeepLIFT rules need a graph compiled withBaseline');
  return ctx.baselineValue;
}

/**
 * numerator/Δ where |Δ| ≥ eps, else `fallback`; the division never sees a zero it would keep.
 * Written with a 0/1 mask t instead of Where, which onnxruntime runs single-threaded at several
 * times the cost: Δ + t is Δ exactly where t = 0 and ≈ 1 where it is 1, and
 * ratio·(1 − t) + fallback·t picks one of the two exactly (both are finite).
 */
function rescale(b: GraphBuilder, numerator: string, delta: string, fallback: string): string {
  const tiny = b.op('Cast', [b.op('Less', [b.op('Abs', [delta])[0], b.scalar(DEEPLIFT_EPS)])[0]], { to: { type: 'int', value: 1 } })[0];
  const ratio = b.op('Div', [numerator, b.op('Add', [delta, tiny])[0]])[0];
  const keep = b.op('Sub', [b.scalar(1), tiny])[0];
  return b.op('Add', [b.op('Mul', [ratio, keep])[0], b.op('Mul', [fallback, tiny])[0]])[0];
}

const delta = (b: GraphBuilder, ref: (name: string) => string, v: string) => b.op('Sub', [v, ref(v)])[0];

/** Rescale rule: the multiplier Δy/Δz against the baseline's forward pass replaces g′(z). */
export const rescaleRule: BackwardRule = (ctx) => {
  const { node, b, upstream } = ctx;
  const ref = baselineOf(ctx);
  const [z] = node.inputs;
  const [y] = node.outputs;
  const multiplier = rescale(b, delta(b, ref, y), delta(b, ref, z), derivatives[node.opType](b, node));
  return node.inputs.map((_, i) => (i === 0 ? b.op('Mul', [upstream[0], multiplier])[0] : null));
};

/**
 * An elementwise nonlinearity of one activation spelt over several nodes (x·σ(x), the HardSwish
 * patterns) is rescaled as one: multiplier Δy/Δv for y = φ(v), falling back to φ′(v) — the
 * gradient through the unit's nodes — where |Δv| < eps. Summation-to-delta holds across it.
 */
function unitRescale(unit: ElementwiseUnit): BackwardRule {
  return (ctx) => {
    const { b, upstream } = ctx;
    const ref = baselineOf(ctx);
    const fallback = gradientThrough(ctx, unit, upstream[0]);
    const numerator = b.op('Mul', [upstream[0], delta(b, ref, unit.output)])[0];
    ctx.send(unit.source, rescale(b, numerator, delta(b, ref, unit.source), fallback));
    return ctx.node.inputs.map(() => null);
  };
}

/** The plain gradient of the unit's output signal at its source, through the unit's own nodes. */
function gradientThrough(ctx: BackwardContext, unit: ElementwiseUnit, signal: string): string {
  const { b } = ctx;
  const inner = new Set(unit.nodes.flatMap((n) => n.outputs));
  const signals = new Map<string, string[]>([[unit.output, [signal]]]);
  const total = (v: string) => {
    const list = signals.get(v) ?? [];
    return list.length <= 1 ? list[0] : b.op('Sum', list)[0];
  };
  for (const node of [...unit.nodes].reverse()) {
    const arriving = total(node.outputs[0]);
    if (!arriving) continue;
    const flows = GRADIENT_RULES[node.opType]({ ...ctx, node, upstream: [arriving] });
    node.inputs.forEach((input, i) => {
      const s = flows[i];
      if (s && (input === unit.source || inner.has(input))) signals.set(input, [...(signals.get(input) ?? []), s]);
    });
  }
  return total(unit.source)!;
}

/**
 * A product or quotient of two activations (a squeeze-excitation gate, GLU) split as Shapley
 * values of its two operands: Δ(ab) = Δa·(b + b′)/2 + Δb·(a + a′)/2 and
 * Δ(a/b) = Δa·(1/b + 1/b′)/2 − Δb·(a + a′)/(2bb′), both exact, so summation-to-delta holds; both
 * tend to the product rule as Δ → 0.
 */
const productRule: BackwardRule = (ctx) => {
  const { node, b, upstream } = ctx;
  const ref = baselineOf(ctx);
  const [x, y] = node.inputs;
  const out = b.shapeOf(node.outputs[0]);
  const live = liveIn(ctx.graph);
  if (!live(x) || !live(y)) return GRADIENT_RULES[node.opType](ctx);
  const mul = (u: string, v: string) => b.op('Mul', [u, v])[0];
  const half = (u: string, v: string) => mul(b.op('Add', [u, v])[0], b.scalar(0.5));
  let mx: string;
  let my: string;
  if (node.opType === 'Mul') {
    mx = half(y, ref(y));
    my = half(x, ref(x));
  } else {
    const inverse = (v: string) => b.op('Reciprocal', [v])[0];
    mx = half(inverse(y), inverse(ref(y)));
    my = b.op('Neg', [b.op('Div', [half(x, ref(x)), mul(y, ref(y))])[0]])[0];
  }
  return [reduceToShape(b, mul(upstream[0], mx), out, x), reduceToShape(b, mul(upstream[0], my), out, y)];
};

/**
 * Captum's DeepLift for max pooling: the output change Δy is routed to the argmax of the input
 * when the output grew (max(y, y′) − y′) and to the argmax of the baseline when it shrank
 * (y − max(y, y′)); the routed change over Δx is the multiplier, with the plain gradient
 * where |Δx| < eps. Overlapping windows add up (a scatter-add), which Captum's max_unpool does
 * not: there summation-to-delta holds here and not in Captum.
 */
export const maxPoolRule: BackwardRule = (ctx) => {
  const { node, b, upstream } = ctx;
  const ref = baselineOf(ctx);
  const [x] = node.inputs;
  const [y] = node.outputs;
  const g = upstream[0];
  const yMax = b.op('Max', [y, ref(y)])[0];
  const grown = b.op('Mul', [g, b.op('Sub', [yMax, ref(y)])[0]])[0];
  const shrunk = b.op('Mul', [g, b.op('Sub', [y, yMax])[0]])[0];
  const xIndices = maxPoolIndices(b, node);
  const refIndices = maxPoolIndices(b, node, ref(x));
  let routed: string;
  const kernel = intsAttr(node, 'kernel_shape', []);
  if (kernel.length > 0 && disjointWindows(node, kernel)) {
    // Each route is a plain scatter (MaxUnpool); where both argmaxes coincide the sum adds them.
    routed = b.op('Add', [routeToIndices(b, node, grown, xIndices), routeToIndices(b, node, shrunk, refIndices)])[0];
  } else {
    const zeros = b.op('ConstantOfShape', [b.op('Reshape', [b.op('Size', [x])[0], b.int64s([1])])[0]])[0];
    const routedFlat = scatterToIndices(b, shrunk, refIndices, x, scatterToIndices(b, grown, xIndices, x, zeros));
    routed = b.op('Reshape', [routedFlat, b.op('Shape', [x])[0]])[0];
  }
  const gradient = routeToIndices(b, node, g, xIndices);
  return [rescale(b, routed, delta(b, ref, x), gradient)];
};

/**
 * GlobalMaxPool as max pooling over one window: Δy routed to the maxima of x (grown) and of x′
 * (shrunk), ties sharing equally so that each channel's routed change still sums to g·Δy.
 */
const globalMaxPoolRule: BackwardRule = (ctx) => {
  const { node, b, upstream } = ctx;
  const ref = baselineOf(ctx);
  const [x] = node.inputs;
  const [y] = node.outputs;
  const g = upstream[0];
  const rank = b.shapeOf(x).length;
  const spatial = b.int64s(Array.from({ length: rank - 2 }, (_, i) => i + 2));
  const share = (input: string, max: string) => {
    const isMax = b.op('Cast', [b.op('Equal', [input, max])[0]], { to: { type: 'int', value: 1 } })[0];
    return b.op('Div', [isMax, b.op('ReduceSum', [isMax, spatial], { keepdims: { type: 'int', value: 1 } })[0]])[0];
  };
  const yMax = b.op('Max', [y, ref(y)])[0];
  const grown = b.op('Mul', [g, b.op('Sub', [yMax, ref(y)])[0]])[0];
  const shrunk = b.op('Mul', [g, b.op('Sub', [y, yMax])[0]])[0];
  const routed = b.op('Add', [b.op('Mul', [share(x, y), grown])[0], b.op('Mul', [share(ref(x), ref(y)), shrunk])[0]])[0];
  const [gradient] = globalMaxPoolGradient(ctx);
  return [rescale(b, routed, delta(b, ref, x), gradient!)];
};

/**
 * DeepLIFT (Rescale): nonlinearities pass Δy/Δz multipliers (Captum's rule for ReLU, Sigmoid,
 * Tanh and the other activations), an elementwise nonlinearity spelt over several nodes is one
 * nonlinearity, products and quotients of two activations split Δ as Shapley values, max pooling
 * routes Δy, and every linear or shape op passes its gradient — so summation-to-delta holds on
 * every graph these rules cover.
 */
export function deepLiftRules(): RuleSet {
  const table: Record<string, BackwardRule> = { ...GRADIENT_RULES, MaxPool: maxPoolRule, GlobalMaxPool: globalMaxPoolRule };
  for (const op of ACTIVATIONS) table[op] = rescaleRule;
  return {
    ruleFor: (node: IrNode, _linearIndex: number | null, _linearCount: number, graph: IrGraph) => {
      const rule = ruleFromTable(table, node);
      if (node.opType !== 'Mul' && node.opType !== 'Div') return rule;
      const unit = elementwiseUnit(graph, node, liveIn(graph));
      return unit ? unitRescale(unit) : productRule;
    },
  };
}
