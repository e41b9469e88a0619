import { float32, type Tensor } from '../tensor.js';
import type { Attribute, IrGraph, IrNode } from './types.js';

/**
 * How a folded BatchNorm is merged into its layer:
 * - `exact`: W′ = W·γ/√(var+eps), b′ = (b − μ)·γ/√(var+eps) + β — the model's own function;
 * - `zennit-0.5.1`: as Zennit 0.5.1 merges it. Its MergeBatchNorm turns the BatchNorm into the
 *   identity by setting mean 0, var 1, γ 1, β 0 but leaves its eps, so the merged BatchNorm still
 *   divides by √(1 + eps); and its composites give BatchNorm the Pass rule, so relevance crosses
 *   it unchanged. Both are had by folding 1/√(1 + eps) into W′ and b′ as well: LRP rules do not
 *   change when a layer's weight and bias are scaled together (only ε and the stabilizer then act
 *   as if multiplied by √(1 + eps)), and the relevance never meets the factor on its way back. Not the model's function: logits move
 *   (by 0.044 against a largest |logit| of 0.88 on the public MobileNetV3, whose BatchNorms have
 *   eps = 1e-3); offered only to reproduce Zennit 0.5.1's numbers (docs/decisions.md, "Zennit
 *   0.5.1's BatchNorm merge").
 */
export type BatchNormMerge = 'exact' | 'zennit-0.5.1';
export const BATCH_NORM_MERGES: readonly BatchNormMerge[] = ['exact', 'zennit-0.5.1'];

/**
 * Canonization for rule-based explanations (Zennit's MergeBatchNorm): a BatchNormalization in
 * inference mode that directly follows a Conv, ConvTranspose, Gemm or 2-D MatMul whose output
 * feeds nothing but that BatchNormalization is folded into the layer's weight and bias (`merge`
 * says how; `exact` keeps the function). LRP rules then see one linear layer instead of a linear
 * layer and an affine one. Returns a new graph; the input graph is not modified. BNs that cannot
 * be folded are left in place.
 */
export function foldBatchNorm(graph: IrGraph, merge: BatchNormMerge = 'exact'): IrGraph {
  const out: IrGraph = {
    ...graph,
    inputs: [...graph.inputs],
    outputs: [...graph.outputs],
    initializers: new Map(graph.initializers),
    nodes: [...graph.nodes],
    values: new Map(graph.values),
  };
  const graphOutputs = new Set(graph.outputs.map((v) => v.name));

  for (let bnIndex = 0; bnIndex < out.nodes.length; bnIndex++) {
    const bn = out.nodes[bnIndex];
    if (bn.opType !== 'BatchNormalization' || bn.domain !== '') continue;
    const bnParams = readBatchNorm(out, bn, merge);
    if (!bnParams) continue;
    const producerIndex = out.nodes.findIndex((n) => n.outputs.includes(bn.inputs[0]));
    if (producerIndex < 0) continue;
    const layer = out.nodes[producerIndex];
    if (layer.outputs.length !== 1 || graphOutputs.has(layer.outputs[0])) continue;
    const consumers = out.nodes.filter((n) => n.inputs.includes(layer.outputs[0]));
    if (consumers.length !== 1) continue;
    const folded = foldInto(out, layer, bnParams);
    if (!folded) continue;

    const weightName = freshName(out, `${layer.inputs[1]}_bnfolded`);
    out.initializers.set(weightName, folded.weight);
    const biasName = freshName(out, `${layer.name || layer.inputs[1]}_bias_bnfolded`);
    out.initializers.set(biasName, folded.bias);
    const newLayer: IrNode = {
      ...layer,
      opType: folded.opType,
      inputs: [layer.inputs[0], weightName, biasName],
      outputs: [bn.outputs[0]],
      attributes: folded.attributes,
    };
    out.values.delete(layer.outputs[0]);
    out.nodes[producerIndex] = newLayer;
    out.nodes.splice(bnIndex, 1);
    bnIndex--;
    removeUnusedInitializers(out, [...layer.inputs.slice(1), ...bn.inputs.slice(1)]);
  }
  return out;
}

interface BatchNormParams {
  /** γ/√(var+eps) per channel. */
  factor: Float64Array;
  /** β − μ·factor per channel (the shift applied after scaling). */
  shift: Float64Array;
  channels: number;
}

function readBatchNorm(graph: IrGraph, bn: IrNode, merge: BatchNormMerge): BatchNormParams | null {
  const training = bn.attributes.training_mode;
  if (training && training.type === 'int' && training.value !== 0) return null;
  if (bn.outputs.length > 1 && bn.outputs.slice(1).some((o) => o !== '')) return null;
  const [scale, bias, mean, variance] = bn.inputs.slice(1, 5).map((n) => graph.initializers.get(n));
  if (!scale || !bias || !mean || !variance) return null;
  const c = scale.data.length;
  if ([bias, mean, variance].some((t) => t.data.length !== c)) return null;
  const epsAttr = bn.attributes.epsilon;
  const eps = epsAttr && epsAttr.type === 'float' ? epsAttr.value : 1e-5;
  // Zennit 0.5.1's leftover: the merged BatchNorm computes x/√(1 + eps) (see BatchNormMerge).
  const leftover = merge === 'zennit-0.5.1' ? 1 / Math.sqrt(1 + eps) : 1;
  const factor = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    const exact = Number(scale.data[k]) / Math.sqrt(Number(variance.data[k]) + eps);
    factor[k] = exact * leftover;
    shift[k] = (Number(bias.data[k]) - Number(mean.data[k]) * exact) * leftover;
  }
  return { factor, shift, channels: c };
}

interface Folded {
  opType: string;
  weight: Tensor;
  bias: Tensor;
  attributes: Record<string, Attribute>;
}

function foldInto(graph: IrGraph, layer: IrNode, bn: BatchNormParams): Folded | null {
  if (layer.domain !== '') return null;
  const weight = graph.initializers.get(layer.inputs[1]);
  if (!weight || weight.dtype !== 'float32') return null;
  const biasName = layer.inputs[2];
  const bias = biasName ? graph.initializers.get(biasName) : undefined;
  if (biasName && !bias) return null;
  const c = bn.channels;
  switch (layer.opType) {
    case 'Conv': {
      if (weight.shape[0] !== c || (bias && bias.data.length !== c)) return null;
      const perChannel = weight.data.length / c;
      const w = scaleWeight(weight, (i) => Math.floor(i / perChannel), bn.factor);
      return { opType: 'Conv', weight: w, bias: foldBias(bias, 1, c, bn), attributes: layer.attributes };
    }
    case 'ConvTranspose': {
      const group = intAttr(layer, 'group', 1);
      const [cin, coutPerGroup] = weight.shape;
      if (coutPerGroup * group !== c || (bias && bias.data.length !== c)) return null;
      const spatial = weight.data.length / (cin * coutPerGroup);
      const cinPerGroup = cin / group;
      const channelOf = (i: number): number => {
        const inChannel = Math.floor(i / (coutPerGroup * spatial));
        const j = Math.floor(i / spatial) % coutPerGroup;
        return Math.floor(inChannel / cinPerGroup) * coutPerGroup + j;
      };
      const w = scaleWeight(weight, channelOf, bn.factor);
      return { opType: 'ConvTranspose', weight: w, bias: foldBias(bias, 1, c, bn), attributes: layer.attributes };
    }
    case 'Gemm': {
      if (intAttr(layer, 'transA', 0) !== 0 || weight.shape.length !== 2) return null;
      const transB = intAttr(layer, 'transB', 0);
      const alpha = floatAttr(layer, 'alpha', 1);
      const beta = floatAttr(layer, 'beta', 1);
      const m = transB ? weight.shape[0] : weight.shape[1];
      if (m !== c) return null;
      if (bias && bias.data.length !== c && bias.data.length !== 1) return null;
      const cols = weight.shape[1];
      const channelOf = transB ? (i: number) => Math.floor(i / cols) : (i: number) => i % cols;
      const w = scaleWeight(weight, channelOf, bn.factor, alpha);
      const attributes: Record<string, Attribute> = { ...layer.attributes, alpha: { type: 'float', value: 1 }, beta: { type: 'float', value: 1 } };
      return { opType: 'Gemm', weight: w, bias: foldBias(bias, beta, c, bn), attributes };
    }
    case 'MatMul': {
      // x·W with a 2-D x and W becomes a Gemm so that the folded bias has a home.
      const x = graph.values.get(layer.inputs[0]);
      if (!x || x.shape.length !== 2 || weight.shape.length !== 2 || weight.shape[1] !== c) return null;
      const cols = weight.shape[1];
      const w = scaleWeight(weight, (i) => i % cols, bn.factor);
      return { opType: 'Gemm', weight: w, bias: foldBias(undefined, 1, c, bn), attributes: {} };
    }
    default:
      return null;
  }
}

function scaleWeight(weight: Tensor, channelOf: (i: number) => number, factor: Float64Array, alpha = 1): Tensor {
  const out = new Float32Array(weight.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(weight.data[i]) * alpha * factor[channelOf(i)];
  return float32([...weight.shape], out);
}

/** (beta·b − μ)·factor + β as a length-c vector; a missing bias is 0, a 1-element one broadcasts. */
function foldBias(bias: Tensor | undefined, beta: number, c: number, bn: BatchNormParams): Tensor {
  const out = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    const b = bias ? Number(bias.data[bias.data.length === 1 ? 0 : k]) * beta : 0;
    out[k] = b * bn.factor[k] + bn.shift[k];
  }
  return float32([c], out);
}

function intAttr(node: IrNode, name: string, fallback: number): number {
  const a = node.attributes[name];
  return a && a.type === 'int' ? a.value : fallback;
}

function floatAttr(node: IrNode, name: string, fallback: number): number {
  const a = node.attributes[name];
  return a && (a.type === 'float' || a.type === 'int') ? a.value : fallback;
}

function freshName(graph: IrGraph, hint: string): string {
  let name = hint;
  for (let i = 1; graph.initializers.has(name) || graph.values.has(name); i++) name = `${hint}_${i}`;
  return name;
}

function removeUnusedInitializers(graph: IrGraph, candidates: string[]): void {
  for (const name of candidates) {
    if (!name || !graph.initializers.has(name)) continue;
    if (graph.nodes.some((n) => n.inputs.includes(name))) continue;
    if (graph.outputs.some((o) => o.name === name)) continue;
    graph.initializers.delete(name);
  }
}
