import { float32, inferShapes, UsageError, type IrGraph, type IrNode, type Tensor } from '@blameboard/core';

/**
 * Functionally equivalent twins of zoo models, for the implementation-invariance metric: the same
 * function as the original (up to float rounding), different weights. The BatchNorm-folded twin is
 * core's `foldBatchNorm`.
 */

function clone(graph: IrGraph, name: string): IrGraph {
  return {
    ...graph,
    name,
    inputs: graph.inputs.map((v) => ({ ...v, shape: [...v.shape] })),
    outputs: graph.outputs.map((v) => ({ ...v, shape: [...v.shape] })),
    initializers: new Map(graph.initializers),
    nodes: graph.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attributes: { ...n.attributes } })),
    values: new Map(graph.values),
  };
}

function consumers(graph: IrGraph, value: string): IrNode[] {
  return graph.nodes.filter((n) => n.inputs.includes(value));
}

function weightOf(graph: IrGraph, node: IrNode, index: number): Tensor {
  const t = graph.initializers.get(node.inputs[index]);
  if (!t || t.dtype !== 'float32') throw new UsageError(`node '${node.name}' has no float32 initializer at input ${index}`);
  return t;
}

/** The first `op → Relu → next` chain where `op` feeds only the Relu and the Relu only `next`. */
function firstReluChain(graph: IrGraph, op: string, next: (n: IrNode) => boolean): [IrNode, IrNode] {
  for (const node of graph.nodes) {
    if (node.opType !== op || node.inputs.length < 3) continue;
    const [relu, ...others] = consumers(graph, node.outputs[0]);
    if (!relu || others.length || relu.opType !== 'Relu') continue;
    let cur = relu;
    // a MaxPool between the ReLU and the next layer commutes with positive scaling, too
    const afterRelu = consumers(graph, relu.outputs[0]);
    if (afterRelu.length === 1 && afterRelu[0].opType === 'MaxPool') cur = afterRelu[0];
    const after = consumers(graph, cur.outputs[0]);
    if (after.length === 1 && next(after[0])) return [node, after[0]];
  }
  throw new UsageError(`graph '${graph.name}' has no ${op} → Relu → layer chain to build a twin from`);
}

const scaled = (t: Tensor, c: number): Tensor => float32([...t.shape], Array.from(t.data as Float32Array, (v) => v * c));

/**
 * Positive rescaling: relu(c·z) = c·relu(z) for c > 0, so multiplying one Gemm's weight and bias
 * by c and dividing the next Gemm's weight by c leaves the function unchanged.
 */
export function rescaledTwin(graph: IrGraph, c = 3): IrGraph {
  if (!(c > 0)) throw new UsageError(`rescaling factor must be positive, got ${c}`);
  const out = clone(graph, `${graph.name}_rescaled`);
  const [first, second] = firstReluChain(out, 'Gemm', (n) => n.opType === 'Gemm');
  const set = (node: IrNode, index: number, t: Tensor) => {
    const name = `${node.inputs[index]}_rescaled`;
    out.initializers.delete(node.inputs[index]);
    out.initializers.set(name, t);
    node.inputs[index] = name;
  };
  set(first, 1, scaled(weightOf(out, first, 1), c));
  set(first, 2, scaled(weightOf(out, first, 2), c));
  set(second, 1, scaled(weightOf(out, second, 1), 1 / c));
  return out;
}

/**
 * Splits output channel k of the first Conv → Relu (→ MaxPool) → Conv chain into two channels with
 * half its weight and bias each. Halving is exact in binary floating point, relu and max-pool
 * commute with it (relu(z/2) = relu(z)/2, max(a/2, b/2) = max(a, b)/2), and the consumer conv
 * reads both halves with the original input weights, so it sums back to the original activation.
 */
export function splitChannelTwin(graph: IrGraph, channel = 0): IrGraph {
  const out = clone(graph, `${graph.name}_split`);
  const [conv, next] = firstReluChain(out, 'Conv', (n) => n.opType === 'Conv');
  const group = conv.attributes.group;
  if ((group && group.type === 'int' && group.value !== 1) || (next.attributes.group && next.attributes.group.value !== 1)) {
    throw new UsageError('channel splitting needs ungrouped convolutions');
  }
  const w = weightOf(out, conv, 1);
  const bias = weightOf(out, conv, 2);
  const [co, ci, kh, kw] = w.shape;
  if (channel < 0 || channel >= co) throw new UsageError(`channel ${channel} is not in [0, ${co})`);
  const k = ci * kh * kw;
  const wd = w.data as Float32Array;
  const newW = new Float32Array((co + 1) * k);
  newW.set(wd);
  for (let i = 0; i < k; i++) {
    newW[channel * k + i] = wd[channel * k + i] / 2;
    newW[co * k + i] = wd[channel * k + i] / 2;
  }
  const newB = new Float32Array(co + 1);
  newB.set(bias.data as Float32Array);
  newB[channel] = newB[co] = (bias.data as Float32Array)[channel] / 2;

  const w2 = weightOf(out, next, 1);
  const [co2, ci2, kh2, kw2] = w2.shape;
  if (ci2 !== co) throw new UsageError(`conv '${next.name}' reads ${ci2} channels, expected ${co}`);
  const w2d = w2.data as Float32Array;
  const plane = kh2 * kw2;
  const newW2 = new Float32Array(co2 * (ci2 + 1) * plane);
  for (let o = 0; o < co2; o++) {
    newW2.set(w2d.subarray(o * ci2 * plane, (o + 1) * ci2 * plane), o * (ci2 + 1) * plane);
    newW2.set(w2d.subarray((o * ci2 + channel) * plane, (o * ci2 + channel + 1) * plane), (o * (ci2 + 1) + ci2) * plane);
  }
  const replace = (node: IrNode, index: number, t: Tensor) => {
    const name = `${node.inputs[index]}_split`;
    out.initializers.delete(node.inputs[index]);
    out.initializers.set(name, t);
    node.inputs[index] = name;
  };
  replace(conv, 1, float32([co + 1, ci, kh, kw], newW));
  replace(conv, 2, float32([co + 1], newB));
  replace(next, 1, float32([co2, ci2 + 1, kh2, kw2], newW2));
  // Intermediate shapes changed (one more channel): let the reader re-infer them.
  out.values = new Map();
  inferShapes(out);
  return out;
}
