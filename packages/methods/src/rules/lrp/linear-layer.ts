import type { BackwardContext, GraphBuilder, IrGraph, IrNode, Tensor } from '@blameboard/core';
import { floatAttr, intAttr, staticDims, unsupported } from '../attributes.js';
import { convGradient, convTransposeGradient } from '../gradient/conv.js';

/**
 * One linear layer z = W·x + b as the LRP rules see it, whatever ONNX op carries it: the rules
 * run "the same layer with other weights" forward (z⁺, z^α, …) and its transpose backward, so
 * this gives them exactly those two operations over weight tensors they derive (W⁺, W + γW⁺, W², 1).
 */
export interface LinearLayer {
  node: IrNode;
  /** 'conv' for Conv/ConvTranspose, 'dense' for Gemm/MatMul — the composites' two kinds. */
  kind: 'conv' | 'dense';
  /** The layer's input activation. */
  x: string;
  /** The forward pre-activation with the bias (for a MatMul, the output of the Add carrying its bias). */
  z: string;
  /** Dense: [K, M] with z = x·W (Gemm's alpha and transB applied); conv: the ONNX weight. */
  weight: Tensor;
  /** Per output channel/unit ([M] or [C_out]); null when the layer has none. */
  bias: Tensor | null;
  b: GraphBuilder;
  /** The same layer applied to `input` with weight `w` and bias `bias` (null: none). */
  forward(input: string, w: Tensor, bias: Tensor | null): string;
  /** Transpose of the layer with weight `w` applied to `signal` (shaped like z): ∂(w·x)/∂x ᵀ signal. */
  backward(signal: string, w: Tensor): string;
  /**
   * Σ_j backward(signals[j], weights[j]). Where the op allows it (dense, ungrouped Conv) this is
   * one transposed op over the signals stacked along the channel axis and the weights stacked to
   * match — one kernel instead of several.
   */
  backwardSum(terms: { signal: string; weight: Tensor }[]): string;
  /** x·W without the bias: z − b from the forward pass (no second convolution). */
  linearPart(): string;
  /** A constant shaped like one input sample, [1, …], filled with a scalar, per-channel or per-element values. */
  inputConstant(values: number | readonly number[], what: string): string;
  /** Σ_k b_k·r_k per sample, [N]: the bias's share when it is a virtual input of constant 1. */
  biasRelevance(r: string, bias: Tensor): string;
  /** The relevance of `x` as the relevance of the node's own input (a Gemm with transA reads x transposed). */
  nodeInputRelevance(r: string): string;
}

function sumAll(b: GraphBuilder, values: string[]): string {
  return values.length === 1 ? values[0] : b.op('Sum', values)[0];
}

function transpose2d(w: Tensor): Tensor {
  const [k, m] = w.shape;
  const data = new Float32Array(k * m);
  for (let i = 0; i < k; i++) for (let j = 0; j < m; j++) data[j * k + i] = Number(w.data[i * m + j]);
  return { dtype: 'float32', shape: [m, k], data };
}

export function mapTensor(t: Tensor, f: (v: number) => number): Tensor {
  const data = new Float32Array(t.data.length);
  for (let i = 0; i < data.length; i++) data[i] = f(Number(t.data[i]));
  return { dtype: 'float32', shape: [...t.shape], data };
}

export const positivePart = (t: Tensor): Tensor => mapTensor(t, (v) => Math.max(v, 0));
export const negativePart = (t: Tensor): Tensor => mapTensor(t, (v) => Math.min(v, 0));

/** Reads the layer a linear-layer rule was chosen for; refuses weights that are not constants. */
export function linearLayer(ctx: BackwardContext): LinearLayer {
  const { node, b, graph } = ctx;
  const weight = b.initializer(node.inputs[1]);
  if (!weight || weight.dtype !== 'float32') throw unsupported(node, 'LRP needs a constant float32 weight');
  switch (node.opType) {
    case 'Conv':
    case 'ConvTranspose':
      return convLayer(ctx, weight);
    case 'Gemm':
      return gemmLayer(ctx, weight);
    case 'MatMul':
      return matMulLayer(ctx, weight, graph);
    default:
      throw unsupported(node, 'not a linear layer');
  }
}

/** Caches one constant per derived tensor, so W⁺ used forward and backward is stored once. */
function constants(b: GraphBuilder, hint: string): (t: Tensor) => string {
  const names = new Map<Tensor, string>();
  return (t) => {
    let name = names.get(t);
    if (!name) {
      name = b.constant(t, hint);
      names.set(t, name);
    }
    return name;
  };
}

function perSampleShape(ctx: BackwardContext, x: string): number[] {
  return staticDims(ctx.node, ctx.b.shapeOf(x).slice(1), 'the layer input');
}

function inputConstantOf(ctx: BackwardContext, x: string, channelAxis: number) {
  return (values: number | readonly number[], what: string): string => {
    const shape = perSampleShape(ctx, x);
    const total = shape.reduce((p, d) => p * d, 1);
    const data = new Float32Array(total);
    if (typeof values === 'number') data.fill(values);
    else if (values.length === total) data.set(values);
    else if (values.length === shape[channelAxis]) {
      const inner = shape.slice(channelAxis + 1).reduce((p, d) => p * d, 1);
      for (let i = 0; i < total; i++) data[i] = values[Math.floor(i / inner) % shape[channelAxis]];
    } else {
      throw unsupported(ctx.node, `${what} has ${values.length} values; the layer input has ${shape[channelAxis]} channels and ${total} elements`);
    }
    return ctx.b.constant({ dtype: 'float32', shape: [1, ...shape], data }, `lrp_${what}`);
  };
}

/** Σ over every axis but the batch of r·bias (bias broadcast from `biasShape`). */
function sumTimesBias(b: GraphBuilder, r: string, bias: Tensor, biasShape: number[], rank: number): string {
  const biasName = b.constant({ ...bias, shape: biasShape }, 'lrp_bias');
  const product = b.op('Mul', [r, biasName])[0];
  const axes = Array.from({ length: rank - 1 }, (_, i) => i + 1);
  return b.op('ReduceSum', [product, b.int64s(axes)], { keepdims: { type: 'int', value: 0 } })[0];
}

/** Tensors stacked along axis 0 (weights: output channels of a Conv, rows of a transposed dense weight). */
function stackAxis0(tensors: Tensor[]): Tensor {
  const data = new Float32Array(tensors.reduce((n, t) => n + t.data.length, 0));
  let offset = 0;
  for (const t of tensors) {
    data.set(t.data as Float32Array, offset);
    offset += t.data.length;
  }
  return { dtype: 'float32', shape: [tensors.reduce((n, t) => n + t.shape[0], 0), ...tensors[0].shape.slice(1)], data };
}

/** Caches a derived tensor per list of source tensors (e.g. a stack of weights), by identity. */
function memoByTensors(f: (ts: Tensor[]) => Tensor): (ts: Tensor[]) => Tensor {
  const cache: { key: Tensor[]; value: Tensor }[] = [];
  return (ts) => {
    const hit = cache.find((c) => c.key.length === ts.length && c.key.every((t, i) => t === ts[i]));
    if (hit) return hit.value;
    const value = f(ts);
    cache.push({ key: ts, value });
    return value;
  };
}

function convLayer(ctx: BackwardContext, weight: Tensor): LinearLayer {
  const { node, b } = ctx;
  const [x, , biasName] = node.inputs;
  const bias = biasName ? b.initializer(biasName) : undefined;
  if (biasName && !bias) throw unsupported(node, 'LRP needs a constant bias');
  const z = node.outputs[0];
  const rank = b.shapeOf(z).length;
  const constant = constants(b, `lrp_${node.opType.toLowerCase()}_weight`);
  const biasConstant = constants(b, `lrp_${node.opType.toLowerCase()}_bias`);
  const adjoint = node.opType === 'Conv' ? convGradient : convTransposeGradient;
  const perChannel = (t: Tensor): Tensor => ({ ...t, shape: [t.data.length, ...Array(rank - 2).fill(1)] });
  const backward = (signal: string, w: Tensor): string => {
    const renamed: IrNode = { ...node, inputs: [x, constant(w)] };
    return adjoint({ ...ctx, node: renamed, upstream: [signal] })[0]!;
  };
  const stacked = memoByTensors(stackAxis0);
  const stackable = node.opType === 'Conv' && intAttr(node, 'group', 1) === 1;
  const layer: LinearLayer = {
    node,
    kind: 'conv',
    x,
    z,
    weight,
    bias: bias ?? null,
    b,
    forward: (input, w, bb) => b.op(node.opType, bb ? [input, constant(w), biasConstant(bb)] : [input, constant(w)], node.attributes)[0],
    backward,
    backwardSum: (terms) => {
      if (terms.length === 1 || !stackable) return sumAll(b, terms.map((t) => backward(t.signal, t.weight)));
      const signals = b.op('Concat', terms.map((t) => t.signal), { axis: { type: 'int', value: 1 } })[0];
      return backward(signals, stacked(terms.map((t) => t.weight)));
    },
    linearPart: () => (layer.bias ? b.op('Sub', [layer.z, biasConstant(perChannel(layer.bias))])[0] : layer.z),
    inputConstant: inputConstantOf(ctx, x, 0),
    biasRelevance: (r, bb) => sumTimesBias(b, r, bb, perChannel(bb).shape, rank),
    nodeInputRelevance: (r) => r,
  };
  return layer;
}

/** A dense layer as z = x·W + b with W [K, M], whatever Gemm flags or MatMul + Add carried it. */
function denseLayer(ctx: BackwardContext, x: string, z: string, weight: Tensor, bias: Tensor | null): LinearLayer {
  const { node, b } = ctx;
  const rank = b.shapeOf(z).length;
  const constant = constants(b, 'lrp_dense_weight');
  const transposedConstant = constants(b, 'lrp_dense_weight_T');
  const biasConstant = constants(b, 'lrp_dense_bias');
  const transposed = memoByTensors(([w]) => transpose2d(w));
  const stackedTransposed = memoByTensors((ws) => stackAxis0(ws.map((w) => transposed([w]))));
  const layer: LinearLayer = {
    node,
    kind: 'dense',
    x,
    z,
    weight,
    bias,
    b,
    forward: (input, w, bb) => {
      const product = b.op('MatMul', [input, constant(w)])[0];
      return bb ? b.op('Add', [product, biasConstant(bb)])[0] : product;
    },
    // r·Wᵀ, for any number of leading axes.
    backward: (signal, w) => b.op('MatMul', [signal, transposedConstant(transposed([w]))])[0],
    backwardSum: (terms) => {
      if (terms.length === 1) return layer.backward(terms[0].signal, terms[0].weight);
      const signals = b.op('Concat', terms.map((t) => t.signal), { axis: { type: 'int', value: -1 } })[0];
      return b.op('MatMul', [signals, transposedConstant(stackedTransposed(terms.map((t) => t.weight)))])[0];
    },
    linearPart: () => (layer.bias ? b.op('Sub', [layer.z, biasConstant(layer.bias)])[0] : layer.z),
    inputConstant: inputConstantOf(ctx, x, b.shapeOf(x).length - 2),
    biasRelevance: (r, bb) => sumTimesBias(b, r, bb, [bb.data.length], rank),
    nodeInputRelevance: (r) => r,
  };
  return layer;
}

/**
 * A Gemm as z = x·W + b with W [K, M] (alpha and transB folded into W, beta into b). With transA
 * the layer reads xᵀ: the rules see that transposed input, and its relevance is transposed back.
 */
function gemmLayer(ctx: BackwardContext, weight: Tensor): LinearLayer {
  const { node, b } = ctx;
  if (weight.shape.length !== 2) throw unsupported(node, 'Gemm weight must be 2-D');
  const alpha = floatAttr(node, 'alpha', 1);
  const beta = floatAttr(node, 'beta', 1);
  const transB = intAttr(node, 'transB', 0) === 1;
  const [rows, cols] = weight.shape;
  const [k, m] = transB ? [cols, rows] : [rows, cols];
  const w = new Float32Array(k * m);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < m; j++) w[i * m + j] = alpha * Number(weight.data[transB ? j * cols + i : i * cols + j]);
  }
  let bias: Tensor | null = null;
  const cName = node.inputs[2];
  if (cName) {
    const c = b.initializer(cName);
    if (!c || (c.data.length !== m && c.data.length !== 1) || c.shape.some((d, i) => d !== 1 && i !== c.shape.length - 1)) {
      throw unsupported(node, 'LRP needs a constant per-unit Gemm bias');
    }
    const data = new Float32Array(m);
    for (let j = 0; j < m; j++) data[j] = beta * Number(c.data[c.data.length === 1 ? 0 : j]);
    bias = { dtype: 'float32', shape: [m], data };
  }
  const transpose = (v: string) => b.op('Transpose', [v], { perm: { type: 'ints', value: [1, 0] } })[0];
  const transA = intAttr(node, 'transA', 0) === 1;
  let x = node.inputs[0];
  if (transA) {
    x = transpose(x);
    // The rules read the transposed input's shape (per-sample constants): record it on the working graph.
    ctx.graph.values.set(x, { name: x, dtype: 'float32', shape: [...b.shapeOf(node.inputs[0])].reverse() });
  }
  const layer = denseLayer(ctx, x, node.outputs[0], { dtype: 'float32', shape: [k, m], data: w }, bias);
  return transA ? { ...layer, nodeInputRelevance: transpose } : layer;
}

/**
 * x·W, with the bias of a following `Add(x·W, b)` when that Add is the product's only consumer
 * (how nn.Linear on 3-D inputs and some converters write a dense layer): LRP treats both as one
 * layer, and the Add passes relevance straight through (see `isDenseBiasAdd`).
 */
function matMulLayer(ctx: BackwardContext, weight: Tensor, graph: IrGraph): LinearLayer {
  const { node, b } = ctx;
  if (weight.shape.length !== 2) throw unsupported(node, 'LRP needs a 2-D MatMul weight');
  const add = denseBiasAdd(graph, node, weight.shape[1]);
  let bias: Tensor | null = null;
  let z = node.outputs[0];
  if (add) {
    const c = b.initializer(add.inputs[add.inputs[0] === z ? 1 : 0])!;
    bias = { dtype: 'float32', shape: [c.data.length], data: Float32Array.from(c.data as Float32Array) };
    z = add.outputs[0];
  }
  return denseLayer(ctx, node.inputs[0], z, weight, bias);
}

/** The `Add(x·W, b)` whose constant b ([M], [1, M], …) is the bias of MatMul `node`, if any. */
export function denseBiasAdd(graph: IrGraph, node: IrNode, units: number): IrNode | undefined {
  const out = node.outputs[0];
  const consumers = graph.nodes.filter((n) => n.inputs.includes(out));
  if (consumers.length !== 1) return undefined;
  const add = consumers[0];
  if (add.opType !== 'Add' || add.inputs.length !== 2) return undefined;
  const other = add.inputs[0] === out ? add.inputs[1] : add.inputs[0];
  const c = graph.initializers.get(other);
  if (!c || c.dtype !== 'float32' || c.data.length !== units || c.shape[c.shape.length - 1] !== units) return undefined;
  return add;
}

/** True when `add` carries the bias of the MatMul that produces its other operand. */
export function isDenseBiasAdd(graph: IrGraph, add: IrNode): boolean {
  if (add.opType !== 'Add' || add.inputs.length !== 2) return false;
  for (const input of add.inputs) {
    const producer = graph.nodes.find((n) => n.outputs[0] === input);
    if (producer?.opType !== 'MatMul') continue;
    const w = graph.initializers.get(producer.inputs[1]);
    if (w && w.shape.length === 2 && denseBiasAdd(graph, producer, w.shape[1]) === add) return true;
  }
  return false;
}
