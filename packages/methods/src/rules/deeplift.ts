import type { BackwardContext, BackwardRule, GraphBuilder, RuleSet } from '@blameboard/core';
import { ACTIVATIONS, derivatives } from './gradient/activation.js';
import { GRADIENT_RULES, ruleFromTable } from './gradient/index.js';
import { intsAttr } from './attributes.js';
import { disjointWindows, maxPoolIndices, routeToIndices, scatterToIndices } from './gradient/pool.js';

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

/** Rescale rule: the multiplier Δy/Δz against the baseline's forward pass replaces g′(z). */
export const rescaleRule: BackwardRule = (ctx) => {
  const { node, b, upstream } = ctx;
  const ref = baselineOf(ctx);
  const [z] = node.inputs;
  const [y] = node.outputs;
  const dz = b.op('Sub', [z, ref(z)])[0];
  const dy = b.op('Sub', [y, ref(y)])[0];
  const multiplier = rescale(b, dy, dz, derivatives[node.opType](b, node));
  return [b.op('Mul', [upstream[0], multiplier])[0]];
};

/**
 * Captum's DeepLift for max pooling: the output change Δy is routed to the argmax of the input
 * when the output grew (max(y, y′) − y′) and to the argmax of the baseline when it shrank
 * (y − max(y, y′)); the routed change over Δx is the multiplier, with the plain gradient
 * where |Δx| < eps. (Captum also routes the baseline half's own multipliers; they equal the
 * input half's wherever no Rescale fallback fired downstream.)
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
  const dx = b.op('Sub', [x, ref(x)])[0];
  return [rescale(b, routed, dx, gradient)];
};

/**
 * DeepLIFT (Rescale) as Captum computes it: nonlinearities pass Δy/Δz multipliers, max pooling
 * routes Δy as above, every linear or shape op passes its gradient.
 */
export function deepLiftRules(): RuleSet {
  const table: Record<string, BackwardRule> = { ...GRADIENT_RULES, MaxPool: maxPoolRule };
  for (const op of ACTIVATIONS) table[op] = rescaleRule;
  return { ruleFor: (node) => ruleFromTable(table, node) };
}
