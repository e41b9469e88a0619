import type { BackwardRule, GraphBuilder, IrNode } from '@blameboard/core';
import { floatAttr, stringAttr } from '../attributes.js';
import { blockedChannels, scaleChannels } from './blocked-layout.js';

/** g′(z) of an elementwise activation y = g(z), as a graph value shaped like z (or broadcastable to it). */
export type Derivative = (b: GraphBuilder, node: IrNode) => string;

const toFloat = { to: { type: 'int' as const, value: 1 } };
const mask = (b: GraphBuilder, op: string, u: string, v: string) => b.op('Cast', [b.op(op, [u, v])[0]], toFloat)[0];
const positive = (b: GraphBuilder, z: string) => b.op('Greater', [z, b.scalar(0)])[0];
const mul = (b: GraphBuilder, u: string, v: string) => b.op('Mul', [u, v])[0];
const add = (b: GraphBuilder, u: string, v: string) => b.op('Add', [u, v])[0];

/**
 * 1 strictly inside (lo, hi), else 0 — the window where a hard-clipped activation has slope. One
 * Cast of the And of both compares: onnxruntime's bool → float Cast is the costly pass (two Casts
 * and a product per ReLU6 took a fifth of MobileNetV2's gradient).
 */
function inside(b: GraphBuilder, z: string, lo: string | null, hi: string | null): string | null {
  if (lo && hi) return b.op('Cast', [b.op('And', [b.op('Greater', [z, lo])[0], b.op('Less', [z, hi])[0]])[0]], toFloat)[0];
  return lo ? mask(b, 'Greater', z, lo) : hi ? mask(b, 'Less', z, hi) : null;
}

/** √(2/π) and the cubic coefficient of GELU's tanh approximation (ONNX Gelu, PyTorch). */
const GELU_TANH_SCALE = Math.sqrt(2 / Math.PI);
const GELU_TANH_CUBIC = 0.044715;

/**
 * g′ at a kink is taken as 0 for the kinked activations (ReLU at 0, Clip and HardSigmoid at
 * their bounds), as PyTorch's relu, hardtanh/relu6 and hardsigmoid do; HardSwish follows
 * PyTorch's hardswish_backward (x/3 + 1/2 on [−3, 3], ends included).
 */
export const derivatives: Record<string, Derivative> = {
  Relu: (b, n) => b.op('Cast', [positive(b, n.inputs[0])], toFloat)[0],
  // With α ≥ 0, [y > 0] = [x > 0]: read from the output (see reluMask).
  LeakyRelu: (b, n) => {
    const alpha = floatAttr(n, 'alpha', 0.01);
    return b.op('Where', [positive(b, alpha >= 0 ? n.outputs[0] : n.inputs[0]), b.scalar(1), b.scalar(alpha)])[0];
  },
  Sigmoid: (b, n) => {
    const y = n.outputs[0];
    return mul(b, y, b.op('Sub', [b.scalar(1), y])[0]);
  },
  Tanh: (b, n) => {
    const y = n.outputs[0];
    return b.op('Sub', [b.scalar(1), mul(b, y, y)])[0];
  },
  Softplus: (b, n) => b.op('Sigmoid', [n.inputs[0]])[0],
  // ELU: α·eˣ = y + α below zero.
  Elu: (b, n) => {
    const belowZero = add(b, n.outputs[0], b.scalar(floatAttr(n, 'alpha', 1)));
    return b.op('Where', [positive(b, n.inputs[0]), b.scalar(1), belowZero])[0];
  },
  // Clip(x, lo, hi): 1 strictly between the bounds (a missing bound does not clip). Read from
  // the output y: lo < y < hi exactly where lo < x < hi (outside, y is a bound), and a Conv whose
  // output only the Clip reads stays fused with it (ReLU6 in MobileNets; see reluMask).
  Clip: (b, n) => {
    const [x, lo, hi] = n.inputs;
    const y = n.outputs[0];
    return inside(b, y, lo || null, hi || null) ?? b.op('Cast', [b.op('Equal', [x, x])[0]], toFloat)[0];
  },
  // HardSigmoid: y = max(0, min(1, αx + β)) has slope α where 0 < αx + β < 1, i.e. where 0 < y < 1
  // (read from the output: onnxruntime's own αx + β, and a Conv before it stays fused).
  HardSigmoid: (b, n) => {
    const alpha = floatAttr(n, 'alpha', 0.2);
    return mul(b, inside(b, n.outputs[0], b.scalar(0), b.scalar(1))!, b.scalar(alpha));
  },
  // HardSwish: x·max(0, min(1, x/6 + 1/2)); slope 0 below −3, x/3 + 1/2 on [−3, 3], 1 above.
  HardSwish: (b, n) => {
    const x = n.inputs[0];
    const ramp = add(b, mul(b, x, b.scalar(1 / 3)), b.scalar(0.5));
    const onRamp = b.op('Cast', [b.op('And', [b.op('GreaterOrEqual', [x, b.scalar(-3)])[0], b.op('LessOrEqual', [x, b.scalar(3)])[0]])[0]], toFloat)[0];
    return add(b, mul(b, onRamp, ramp), mask(b, 'Greater', x, b.scalar(3)));
  },
  // erf′(x) = 2/√π · e^(−x²).
  Erf: (b, n) => {
    const x = n.inputs[0];
    return mul(b, b.op('Exp', [b.op('Neg', [mul(b, x, x)])[0]])[0], b.scalar(2 / Math.sqrt(Math.PI)));
  },
  // GELU (opset 20): Φ(x) + x·φ(x) exactly; with approximate = 'tanh' the derivative of that formula.
  Gelu: (b, n) => {
    const x = n.inputs[0];
    if (stringAttr(n, 'approximate', 'none') === 'tanh') {
      const x2 = mul(b, x, x);
      const inner = mul(b, mul(b, x, add(b, b.scalar(1), mul(b, x2, b.scalar(GELU_TANH_CUBIC)))), b.scalar(GELU_TANH_SCALE));
      const t = b.op('Tanh', [inner])[0];
      const dInner = mul(b, add(b, b.scalar(1), mul(b, x2, b.scalar(3 * GELU_TANH_CUBIC))), b.scalar(GELU_TANH_SCALE));
      const sech2 = b.op('Sub', [b.scalar(1), mul(b, t, t)])[0];
      return add(b, mul(b, add(b, b.scalar(1), t), b.scalar(0.5)), mul(b, mul(b, mul(b, x, b.scalar(0.5)), sech2), dInner));
    }
    const cdf = mul(b, add(b, b.scalar(1), b.op('Erf', [mul(b, x, b.scalar(Math.SQRT1_2))])[0]), b.scalar(0.5));
    const pdf = mul(b, b.op('Exp', [mul(b, mul(b, x, x), b.scalar(-0.5))])[0], b.scalar(1 / Math.sqrt(2 * Math.PI)));
    return add(b, cdf, mul(b, x, pdf));
  },
};

/** Elementwise activations of one input, every one with a derivative above. */
export const ACTIVATIONS = Object.keys(derivatives);

/** 2¹²⁶: a power of two, so a product with it is exact until it overflows to +∞. */
const HUGE = 2 ** 126;

/**
 * ReLU′ as a 0/1 float: [y > 0], which equals [z > 0] but reads the ReLU's output, so that z stays
 * private to a Conv/Gemm+ReLU pair that onnxruntime fuses (reading z costs the fusion, ~2× the
 * layer's forward time).
 *
 * On images in whole channel blocks the mask is a depthwise 1×1 Conv by 2¹²⁶ with a fused
 * HardSigmoid of slope 2¹²⁶: y ≥ 0, and the two exact scalings send every positive float32, the
 * smallest subnormal 2⁻¹⁴⁹ included, to ≥ 2¹⁰³ (or +∞), which the HardSigmoid clips to 1, while 0
 * stays 0. So the mask is [y > 0] bit for bit, and unlike Greater + Cast it stays in the blocked
 * layout (see blocked-layout.ts). Elsewhere, a Cast, which onnxruntime runs faster than Where.
 */
export function reluMask(b: GraphBuilder, relu: IrNode): string {
  const y = relu.outputs[0];
  const channels = blockedChannels(b.shapeOf(y));
  if (channels !== null) {
    const alpha = { type: 'float' as const, value: HUGE };
    return b.op('HardSigmoid', [scaleChannels(b, y, channels, HUGE)], { alpha, beta: { type: 'float', value: 0 } })[0];
  }
  return b.op('Cast', [positive(b, y)], toFloat)[0];
}

/** Upstream ⊙ g′(z). Clip's bounds (inputs 1 and 2) carry no signal. */
export const activationGradient: BackwardRule = ({ node, b, upstream }) => {
  const g = node.opType === 'Relu' ? reluMask(b, node) : derivatives[node.opType](b, node);
  return node.inputs.map((_, i) => (i === 0 ? b.op('Mul', [upstream[0], g])[0] : null));
};
