import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfLayers from '@tensorflow/tfjs-layers';
import { ModelLoadError, UnsupportedOperatorError } from '../errors.js';
import type { UnsupportedOp } from '../errors.js';
import { inferShapes } from '../ir/shape-inference.js';
import type { Attribute, IrGraph, IrNode } from '../ir/types.js';
import type { Tensor } from '../tensor.js';
import { getTf } from './backend.js';
import { fileLoadHandler } from './layers-io.js';

/**
 * tfjs LayersModel → IR. tfjs image models are NHWC; the IR, like a PyTorch export, is NCHW:
 * the graph input is [N, C, H, W], kernels are permuted to ONNX's [out, in, kh, kw], every
 * rank-4 value is kept NCHW, and a Flatten of an image first transposes back to NHWC so the
 * flattened order (h, w, c) — and with it the next Dense layer's weights — stay tfjs's.
 */

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
}

class Builder {
  readonly nodes: IrNode[] = [];
  readonly initializers = new Map<string, Tensor>();

  node(name: string, opType: string, inputs: string[], attributes: Record<string, Attribute> = {}): string {
    const out = name;
    this.nodes.push({ name, opType, domain: '', inputs, outputs: [out], attributes });
    return out;
  }

  weight(name: string, shape: number[], data: Float32Array): string {
    this.initializers.set(name, { dtype: 'float32', shape, data });
    return name;
  }

  ints(name: string, values: number[]): string {
    this.initializers.set(name, { dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  }
}

const ints = (...value: number[]): Attribute => ({ type: 'ints', value });
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

/** Layers the importer cannot convert (class, activation, layout), each named. */
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
export async function importLayersModel(modelJsonPath: string): Promise<IrGraph> {
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
    return convertLayersModel(model, modelJsonPath);
  } finally {
    model.dispose();
  }
}

/** Converts a loaded (or freshly built) LayersModel. */
export function convertLayersModel(model: TfLayers.LayersModel, name = 'tfjs-model'): IrGraph {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ModelLoadError(`${name}: Blameboard needs one input and one output, the model has ${model.inputs.length} and ${model.outputs.length}`);
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
    if (!v) throw new ModelLoadError(`${name}: tensor '${t.name}' is used before it is computed`);
    return v;
  };

  for (const layer of layers) {
    const node = layer.inboundNodes[0];
    const ins = node.inputTensors.map(valueOf);
    const outT = node.outputTensors[0];
    values.set(outT.id, convertLayer(b, layer, ins, outT));
  }

  let out = valueOf(model.outputs[0]);
  if (out.rank === 4) out = { name: b.node('output/to_nhwc', 'Transpose', [out.name], { perm: ints(0, 2, 3, 1) }), rank: 4 };
  if (out.name === 'input') out = { name: b.node('output', 'Identity', [out.name]), rank: out.rank };
  const [, ...inShape] = input.shape as number[];
  const graph: IrGraph = {
    name: model.name,
    irVersion: 8,
    opsetVersion: 13,
    producerName: 'blameboard-tfjs-import',
    inputs: [{ name: 'input', dtype: 'float32', shape: ['N', ...(inRank === 4 ? [inShape[2], inShape[0], inShape[1]] : inShape)] }],
    outputs: [{ name: out.name, dtype: 'float32', shape: ['N', ...(model.outputs[0].shape.slice(1) as number[])] }],
    initializers: b.initializers,
    nodes: b.nodes,
    values: new Map(),
  };
  inferShapes(graph);
  return graph;
}

function convertLayer(b: Builder, layer: Layer, ins: Value[], outT: Symbolic): Value {
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
    const attrs: Record<string, Attribute> = act === 'Softmax' ? { axis: { type: 'int', value: irAxis(-1, rank) } } : {};
    return result(b.node(`${n}/${cfg.activation as string}`, act, [v], attrs));
  };

  switch (cls) {
    case 'Dense': {
      if (x.rank !== 2) throw new UnsupportedOperatorError([{ opType: `Dense(rank ${x.rank} input)`, name: n }], 'unsupported tfjs layers');
      const kernel = w.get('kernel')!;
      const [inF, units] = kernel.shape;
      const inputs = [x.name, b.weight(`${n}/kernel`, [inF, units], data(kernel)!)];
      if (w.has('bias')) inputs.push(b.weight(`${n}/bias`, [units], data(w.get('bias'))!));
      return withActivation(b.node(n, 'Gemm', inputs));
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
      const inputs = [x.name, b.weight(`${n}/kernel`, [cout, depthwise ? 1 : cin, kh, kw], perm)];
      if (w.has('bias')) inputs.push(b.weight(`${n}/bias`, [cout], data(w.get('bias'))!));
      const attrs: Record<string, Attribute> = {
        kernel_shape: ints(kh, kw),
        strides: ints(sh, sw),
        dilations: ints(dh, dw),
        pads: ints(ph[0], pw[0], ph[1], pw[1]),
        group: { type: 'int', value: depthwise ? cin : 1 },
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
      const attrs: Record<string, Attribute> = { kernel_shape: ints(kh, kw), strides: ints(sh, sw), pads: ints(ph[0], pw[0], ph[1], pw[1]) };
      return result(b.node(n, cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [x.name], attrs));
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D': {
      imageOnly();
      const pooled = b.node(`${n}/pool`, cls === 'GlobalMaxPooling2D' ? 'GlobalMaxPool' : 'GlobalAveragePool', [x.name]);
      if (rank === 4) return result(pooled); // keepDims: [N, 1, 1, C] in tfjs, [N, C, 1, 1] here
      return result(b.node(n, 'Flatten', [pooled], { axis: { type: 'int', value: 1 } }));
    }
    case 'Flatten': {
      if (x.rank === 2) return x;
      imageOnly();
      const nhwc = b.node(`${n}/to_nhwc`, 'Transpose', [x.name], { perm: ints(0, 2, 3, 1) });
      return result(b.node(n, 'Flatten', [nhwc], { axis: { type: 'int', value: 1 } }));
    }
    case 'BatchNormalization': {
      const axis = cfg.axis as number;
      if (axis !== -1 && axis !== x.rank - 1) {
        throw new UnsupportedOperatorError([{ opType: `BatchNormalization(axis=${axis})`, name: n }], 'unsupported tfjs layers');
      }
      const mean = w.get('moving_mean')!;
      const c = mean.shape[0];
      const ones = new Float32Array(c).fill(1);
      const inputs = [
        x.name,
        b.weight(`${n}/gamma`, [c], data(w.get('gamma')) ?? ones),
        b.weight(`${n}/beta`, [c], data(w.get('beta')) ?? new Float32Array(c)),
        b.weight(`${n}/moving_mean`, [c], data(mean)!),
        b.weight(`${n}/moving_variance`, [c], data(w.get('moving_variance'))!),
      ];
      return result(b.node(n, 'BatchNormalization', inputs, { epsilon: { type: 'float', value: cfg.epsilon as number } }));
    }
    case 'Activation':
      return withActivation(x.name);
    case 'ReLU':
      return result(b.node(n, 'Relu', [x.name]));
    case 'LeakyReLU':
      return result(b.node(n, 'LeakyRelu', [x.name], { alpha: { type: 'float', value: (cfg.alpha as number) ?? 0.3 } }));
    case 'ELU':
      return result(b.node(n, 'Elu', [x.name], { alpha: { type: 'float', value: (cfg.alpha as number) ?? 1 } }));
    case 'Softmax': {
      const axis = (cfg.axis as number) ?? -1;
      return result(b.node(n, 'Softmax', [x.name], { axis: { type: 'int', value: irAxis(axis, x.rank) } }));
    }
    case 'Add': {
      let acc = ins[0].name;
      for (let i = 1; i < ins.length; i++) acc = b.node(i === ins.length - 1 ? n : `${n}/${i}`, 'Add', [acc, ins[i].name]);
      return result(acc);
    }
    case 'Concatenate': {
      const axis = (cfg.axis as number) ?? -1;
      return result(b.node(n, 'Concat', ins.map((v) => v.name), { axis: { type: 'int', value: irAxis(axis, x.rank) } }));
    }
    case 'ZeroPadding2D': {
      imageOnly();
      const p = cfg.padding as [[number, number], [number, number]];
      return result(b.node(n, 'Pad', [x.name, b.ints(`${n}/pads`, [0, 0, p[0][0], p[1][0], 0, 0, p[0][1], p[1][1]])]));
    }
    case 'Dropout':
      return x;
    default:
      throw new UnsupportedOperatorError([{ opType: cls, name: n }], 'unsupported tfjs layers');
  }
}
