import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfLayers from '@tensorflow/tfjs-layers';
import { type Attribute, inferShapes, type IrGraph, type IrNode, ModelLoadError, type Tensor, type UnsupportedOp, UnsupportedOperatorError } from '@blameboard/core';
import { getTf } from './backend.js';
import { fileLoadHandler } from './layers-io.js';

/**
 * tfjs LayersModel → IR: the one converter. `blameboard train` exports the zoo with it and
 * `loadTfjsModel` imports a user's model.json with it. tfjs image models are NHWC; the IR is what
 * a PyTorch export of the same network would be: an NCHW input [N, C, H, W], Conv kernels
 * [out, in, kh, kw], Gemm weights [out, in] (transB = 1), every rank-4 value NCHW, and a Flatten
 * of an image in NCHW order (c, h, w) — the Dense layers it feeds get their rows permuted so they
 * read the features they were trained on in (h, w, c) order. No layout Transpose is left in the
 * graph, so attribution rules see the layers as a PyTorch model would have them. Only where a
 * flattened image reaches something other than Dense layers (a Concatenate, an activation, the
 * model output: nothing to absorb the permutation) is it transposed to NHWC before the Flatten,
 * so its values keep tfjs's order. docs/decisions.md, "One LayersModel converter".
 */

/** The ONNX opset of converted graphs (and of the zoo's files). */
export const EXPORT_OPSET = 13;

type Layer = TfLayers.layers.Layer;
type Symbolic = TfLayers.SymbolicTensor;
type Config = Record<string, unknown>;

/** Activations (inside layers or as Activation layers) and their ONNX operator. */
const ACTIVATIONS: Record<string, string | null> = {
  linear: null,
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  softmax: 'Softmax',
  elu: 'Elu',
  softplus: 'Softplus',
};

const LAYERS = new Set([
  'InputLayer', 'Dense', 'Conv2D', 'DepthwiseConv2D', 'MaxPooling2D', 'AveragePooling2D',
  'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Flatten', 'BatchNormalization', 'Activation',
  'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'Add', 'Concatenate', 'ZeroPadding2D', 'Dropout',
]);

/** A value of the IR graph and the rank of the tfjs tensor it stands for. */
interface Value {
  name: string;
  rank: number;
  /** A flattened NHWC image held in NCHW order (c, h, w): the Dense layer it feeds permutes its rows. */
  flattenedFrom?: ImageDims;
}

interface ImageDims {
  c: number;
  h: number;
  w: number;
}

export interface ConvertOptions {
  /** Name of the graph (default: the model's name). */
  name?: string;
  /** Name of the graph's output value (default 'output'; the zoo's classifiers use 'logits'). */
  outputName?: string;
  /** Where the model came from, for error messages (default: the model's name). */
  source?: string;
}

/** Names in PyTorch's export style: node `conv1` → value `conv1_output`, weights `conv1.weight`. */
class Builder {
  readonly nodes: IrNode[] = [];
  readonly initializers = new Map<string, Tensor>();
  private readonly names = new Set<string>();

  /** A node name not taken yet (tfjs layer names are unique, the suffixes added here may not be). */
  private fresh(base: string): string {
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }

  node(base: string, opType: string, inputs: string[], attributes: Record<string, Attribute> = {}): string {
    const name = this.fresh(base);
    const out = `${name}_output`;
    this.nodes.push({ name, opType, domain: '', inputs, outputs: [out], attributes });
    return out;
  }

  weight(base: string, shape: number[], data: Float32Array): string {
    const name = this.fresh(base);
    this.initializers.set(name, { dtype: 'float32', shape, data });
    return name;
  }

  ints(base: string, values: number[]): string {
    const name = this.fresh(base);
    this.initializers.set(name, { dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  }
}

const ints = (...value: number[]): Attribute => ({ type: 'ints', value });
const int = (value: number): Attribute => ({ type: 'int', value });
const float = (value: number): Attribute => ({ type: 'float', value });
const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0] as number, v[1] as number] : [v as number, v as number]);

/** TensorFlow 'same' padding: total = max((⌈in/s⌉ − 1)·s + k_eff − in, 0), the extra one at the end. */
function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - size);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** A tfjs axis of an NHWC tensor as the axis of its NCHW IR value (N→0, H→2, W→3, C→1). */
function irAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  return rank === 4 ? [0, 2, 3, 1][a] : a;
}

function layerWeights(layer: Layer): Map<string, TfCore.Tensor> {
  const values = layer.getWeights();
  const out = new Map<string, TfCore.Tensor>();
  layer.weights.forEach((w, i) => out.set(w.originalName.split('/').pop()!, values[i]));
  return out;
}

/** Layers the converter cannot convert (class, activation, layout), each named. */
function unsupportedLayers(layers: Layer[]): UnsupportedOp[] {
  const out: UnsupportedOp[] = [];
  for (const layer of layers) {
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Config;
    if (!LAYERS.has(cls)) {
      out.push({ opType: cls, name: layer.name });
      continue;
    }
    if (typeof cfg.activation === 'string' && !(cfg.activation in ACTIVATIONS)) {
      out.push({ opType: `${cls}(activation=${cfg.activation})`, name: layer.name });
    }
    if (cfg.dataFormat === 'channelsFirst') out.push({ opType: `${cls}(dataFormat=channelsFirst)`, name: layer.name });
    if (layer.inboundNodes.length > 1) out.push({ opType: `${cls}(shared by ${layer.inboundNodes.length} calls)`, name: layer.name });
    if (cls === 'ReLU' && cfg.maxValue != null) out.push({ opType: 'ReLU(maxValue)', name: layer.name });
    if (cls === 'Conv2D' && cfg.padding === 'causal') out.push({ opType: 'Conv2D(padding=causal)', name: layer.name });
  }
  return out;
}

/**
 * Reads a tfjs LayersModel (`model.json` + weight shards) and converts it to the layer-graph IR
 * (one NCHW input for image models, as a PyTorch export would have). Unsupported layers are
 * reported together, by class and layer name.
 */
export async function importLayersModel(modelJsonPath: string, opts: Omit<ConvertOptions, 'source'> = {}): Promise<IrGraph> {
  const tf = await getTf();
  const tfl = (await import('@tensorflow/tfjs-layers')) as typeof TfLayers;
  let model: TfLayers.LayersModel;
  try {
    model = await tfl.loadLayersModel(fileLoadHandler(tf, modelJsonPath));
  } catch (e) {
    if (e instanceof ModelLoadError) throw e;
    throw new ModelLoadError(`tfjs cannot load '${modelJsonPath}': ${String((e as Error).message ?? e).split('\n')[0]}`, { cause: e });
  }
  try {
    return convertLayersModel(model, { ...opts, source: modelJsonPath });
  } finally {
    model.dispose();
  }
}

/** Converts a loaded (or freshly trained) LayersModel. */
export function convertLayersModel(model: TfLayers.LayersModel, opts: ConvertOptions = {}): IrGraph {
  const source = opts.source ?? model.name;
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ModelLoadError(`${source}: Blameboard needs one input and one output, the model has ${model.inputs.length} and ${model.outputs.length}`);
  }
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const bad = unsupportedLayers(layers);
  if (bad.length > 0) throw new UnsupportedOperatorError(bad, 'unsupported tfjs layers');

  const input = model.inputs[0];
  const inRank = input.shape.length;
  if (inRank !== 2 && inRank !== 4) {
    throw new UnsupportedOperatorError([{ opType: `InputLayer(rank ${inRank})`, name: input.name }], 'unsupported tfjs layers');
  }
  const b = new Builder();
  const values = new Map<number, Value>([[input.id, { name: 'input', rank: inRank }]]);
  const valueOf = (t: Symbolic): Value => {
    const v = values.get(t.id);
    if (!v) throw new ModelLoadError(`${source}: tensor '${t.name}' is used before it is computed`);
    return v;
  };
  const outputT = model.outputs[0];
  const consumers = new Map<number, Layer[]>();
  for (const layer of layers) {
    for (const t of layer.inboundNodes[0].inputTensors) consumers.set(t.id, [...(consumers.get(t.id) ?? []), layer]);
  }
  /** Whether every path from `t` ends in a Dense layer (through Dropouts), so Dense weights can absorb a permutation. */
  const feedsDenseOnly = (t: Symbolic): boolean => {
    const users = consumers.get(t.id) ?? [];
    if (t.id === outputT.id || users.length === 0) return false;
    return users.every((l) => {
      const cls = l.getClassName();
      if (cls === 'Dense') return true;
      return cls === 'Dropout' && feedsDenseOnly(l.inboundNodes[0].outputTensors[0]);
    });
  };

  for (const layer of layers) {
    const node = layer.inboundNodes[0];
    const ins = node.inputTensors.map(valueOf);
    const outT = node.outputTensors[0];
    values.set(outT.id, convertLayer(b, layer, ins, outT, feedsDenseOnly));
  }

  let out = valueOf(outputT);
  if (out.rank === 4) out = { name: b.node('output_to_nhwc', 'Transpose', [out.name], { perm: ints(0, 2, 3, 1) }), rank: 4 };
  if (out.name === 'input') out = { name: b.node('output', 'Identity', [out.name]), rank: out.rank };
  const outputName = opts.outputName ?? 'output';
  for (const n of b.nodes) {
    n.inputs = n.inputs.map((v) => (v === out.name ? outputName : v));
    n.outputs = n.outputs.map((v) => (v === out.name ? outputName : v));
  }
  const [, ...inShape] = input.shape as number[];
  const graph: IrGraph = {
    name: opts.name ?? model.name,
    irVersion: 7,
    opsetVersion: EXPORT_OPSET,
    producerName: 'blameboard',
    inputs: [{ name: 'input', dtype: 'float32', shape: ['N', ...(inRank === 4 ? [inShape[2], inShape[0], inShape[1]] : inShape)] }],
    outputs: [{ name: outputName, dtype: 'float32', shape: ['N', ...(outputT.shape.slice(1) as number[])] }],
    initializers: b.initializers,
    nodes: b.nodes,
    values: new Map(),
  };
  inferShapes(graph);
  return graph;
}

/** Dense kernel [in, out] → Gemm B [out, in]; after a Flatten in NCHW order, row j of the NHWC features becomes column i. */
function gemmWeight(kernel: Float32Array, fin: number, fout: number, from?: ImageDims): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let o = 0; o < fout; o++) {
    for (let i = 0; i < fin; i++) {
      let j = i;
      if (from) {
        const c = Math.floor(i / (from.h * from.w));
        const hw = i % (from.h * from.w);
        j = hw * from.c + c;
      }
      out[o * fin + i] = kernel[j * fout + o];
    }
  }
  return out;
}

function convertLayer(b: Builder, layer: Layer, ins: Value[], outT: Symbolic, feedsDenseOnly: (t: Symbolic) => boolean): Value {
  const cls = layer.getClassName();
  const cfg = layer.getConfig() as Config;
  const n = layer.name;
  const x = ins[0];
  const inShape = layer.inboundNodes[0].inputTensors[0].shape;
  const w = layerWeights(layer);
  const data = (t: TfCore.Tensor | undefined) => (t ? (t.dataSync() as Float32Array) : undefined);
  const rank = outT.shape.length;
  const result = (v: string): Value => ({ name: v, rank });
  const imageOnly = () => {
    if (x.rank !== 4) throw new UnsupportedOperatorError([{ opType: `${cls}(rank ${x.rank} input)`, name: n }], 'unsupported tfjs layers');
  };
  const withActivation = (v: string): Value => {
    const act = typeof cfg.activation === 'string' ? ACTIVATIONS[cfg.activation] : null;
    if (!act) return result(v);
    const attrs: Record<string, Attribute> = act === 'Softmax' ? { axis: int(irAxis(-1, rank)) } : {};
    return result(b.node(`${n}_${cfg.activation as string}`, act, [v], attrs));
  };

  switch (cls) {
    case 'Dense': {
      if (x.rank !== 2) throw new UnsupportedOperatorError([{ opType: `Dense(rank ${x.rank} input)`, name: n }], 'unsupported tfjs layers');
      const kernel = w.get('kernel')!;
      const [inF, units] = kernel.shape;
      const inputs = [x.name, b.weight(`${n}.weight`, [units, inF], gemmWeight(data(kernel)!, inF, units, x.flattenedFrom))];
      if (w.has('bias')) inputs.push(b.weight(`${n}.bias`, [units], data(w.get('bias'))!));
      return withActivation(b.node(n, 'Gemm', inputs, { alpha: float(1), beta: float(1), transB: int(1) }));
    }
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      imageOnly();
      const depthwise = cls === 'DepthwiseConv2D';
      const kernel = w.get(depthwise ? 'depthwise_kernel' : 'kernel')!;
      const [kh, kw, cin, k3] = kernel.shape;
      const cout = depthwise ? cin * k3 : k3;
      const src = data(kernel)!;
      // [kh, kw, in, out] → [out, in, kh, kw]; depthwise [kh, kw, c, m] → [c·m, 1, kh, kw].
      const perm = new Float32Array(src.length);
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++)
          for (let c = 0; c < cin; c++)
            for (let o = 0; o < k3; o++) {
              const from = ((i * kw + j) * cin + c) * k3 + o;
              const to = depthwise ? ((c * k3 + o) * kh + i) * kw + j : ((o * cin + c) * kh + i) * kw + j;
              perm[to] = src[from];
            }
      const [sh, sw] = pair(cfg.strides);
      const [dh, dw] = pair(cfg.dilationRate ?? 1);
      const [ph, pw] =
        cfg.padding === 'same'
          ? [samePads(inShape[1]!, kh, sh, dh), samePads(inShape[2]!, kw, sw, dw)]
          : [[0, 0], [0, 0]];
      const inputs = [x.name, b.weight(`${n}.weight`, [cout, depthwise ? 1 : cin, kh, kw], perm)];
      if (w.has('bias')) inputs.push(b.weight(`${n}.bias`, [cout], data(w.get('bias'))!));
      const attrs: Record<string, Attribute> = {
        dilations: ints(dh, dw),
        group: int(depthwise ? cin : 1),
        kernel_shape: ints(kh, kw),
        pads: ints(ph[0], pw[0], ph[1], pw[1]),
        strides: ints(sh, sw),
      };
      return withActivation(b.node(n, 'Conv', inputs, attrs));
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      imageOnly();
      const [kh, kw] = pair(cfg.poolSize);
      const [sh, sw] = pair(cfg.strides ?? cfg.poolSize);
      const [ph, pw] = cfg.padding === 'same' ? [samePads(inShape[1]!, kh, sh, 1), samePads(inShape[2]!, kw, sw, 1)] : [[0, 0], [0, 0]];
      // TensorFlow's 'same' average excludes the padding, as ONNX's count_include_pad = 0 does.
      const attrs: Record<string, Attribute> = { kernel_shape: ints(kh, kw), pads: ints(ph[0], pw[0], ph[1], pw[1]), strides: ints(sh, sw) };
      return result(b.node(n, cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [x.name], attrs));
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D': {
      imageOnly();
      const pooled = b.node(`${n}_pool`, cls === 'GlobalMaxPooling2D' ? 'GlobalMaxPool' : 'GlobalAveragePool', [x.name]);
      if (rank === 4) return result(pooled); // keepDims: [N, 1, 1, C] in tfjs, [N, C, 1, 1] here
      return result(b.node(n, 'Flatten', [pooled], { axis: int(1) }));
    }
    case 'Flatten': {
      if (x.rank === 2) return x;
      imageOnly();
      const [, h, wd, c] = inShape as number[];
      if (feedsDenseOnly(outT)) {
        return { name: b.node(n, 'Flatten', [x.name], { axis: int(1) }), rank: 2, flattenedFrom: { c, h, w: wd } };
      }
      const nhwc = b.node(`${n}_to_nhwc`, 'Transpose', [x.name], { perm: ints(0, 2, 3, 1) });
      return result(b.node(n, 'Flatten', [nhwc], { axis: int(1) }));
    }
    case 'BatchNormalization': {
      const axis = cfg.axis as number;
      if (axis !== -1 && axis !== x.rank - 1) {
        throw new UnsupportedOperatorError([{ opType: `BatchNormalization(axis=${axis})`, name: n }], 'unsupported tfjs layers');
      }
      const mean = w.get('moving_mean')!;
      const c = mean.shape[0];
      const inputs = [
        x.name,
        b.weight(`${n}.weight`, [c], data(w.get('gamma')) ?? new Float32Array(c).fill(1)),
        b.weight(`${n}.bias`, [c], data(w.get('beta')) ?? new Float32Array(c)),
        b.weight(`${n}.running_mean`, [c], data(mean)!),
        b.weight(`${n}.running_var`, [c], data(w.get('moving_variance'))!),
      ];
      const attrs: Record<string, Attribute> = { epsilon: float(cfg.epsilon as number) };
      if (typeof cfg.momentum === 'number') attrs.momentum = float(cfg.momentum);
      return result(b.node(n, 'BatchNormalization', inputs, attrs));
    }
    case 'Activation':
      return withActivation(x.name);
    case 'ReLU':
      return result(b.node(n, 'Relu', [x.name]));
    case 'LeakyReLU':
      return result(b.node(n, 'LeakyRelu', [x.name], { alpha: float((cfg.alpha as number) ?? 0.3) }));
    case 'ELU':
      return result(b.node(n, 'Elu', [x.name], { alpha: float((cfg.alpha as number) ?? 1) }));
    case 'Softmax': {
      const axis = (cfg.axis as number) ?? -1;
      return result(b.node(n, 'Softmax', [x.name], { axis: int(irAxis(axis, x.rank)) }));
    }
    case 'Add': {
      let acc = ins[0].name;
      for (let i = 1; i < ins.length; i++) acc = b.node(i === ins.length - 1 ? n : `${n}_${i}`, 'Add', [acc, ins[i].name]);
      return result(acc);
    }
    case 'Concatenate': {
      const axis = (cfg.axis as number) ?? -1;
      return result(b.node(n, 'Concat', ins.map((v) => v.name), { axis: int(irAxis(axis, x.rank)) }));
    }
    case 'ZeroPadding2D': {
      imageOnly();
      const p = cfg.padding as [[number, number], [number, number]];
      return result(b.node(n, 'Pad', [x.name, b.ints(`${n}.pads`, [0, 0, p[0][0], p[1][0], 0, 0, p[0][1], p[1][1]])]));
    }
    case 'Dropout':
      return x;
    default:
      throw new UnsupportedOperatorError([{ opType: cls, name: n }], 'unsupported tfjs layers');
  }
}
