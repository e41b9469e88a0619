import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { float32, inferShapes, UnsupportedOperatorError, type Attribute, type IrGraph, type IrNode, type Tensor } from '@blameboard/core';

/**
 * A trained tfjs LayersModel (channels-last) as the ONNX graph PyTorch would export for the same
 * network: NCHW input, Conv weights [out, in, kh, kw], Flatten then Gemm (transB = 1) — with the
 * dense weights after a Flatten permuted so that NCHW flatten order (c, h, w) reads the features
 * the NHWC-trained layer saw in (h, w, c) order. Opset 13.
 */
export const EXPORT_OPSET = 13;

interface Value {
  name: string;
  /** Channels, height, width of an image value. */
  image?: { c: number; h: number; w: number };
  /** A flattened image: the (h, w, c) it came from, so the next Gemm can permute. */
  flattenedFrom?: { c: number; h: number; w: number };
}

type LayerConfig = Record<string, unknown>;

const ints = (value: number[]): Attribute => ({ type: 'ints', value });
const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0] as number, v[1] as number] : [v as number, v as number]);

function weights(layer: tfl.layers.Layer): Tensor[] {
  return layer.getWeights().map((w: tf.Tensor) => float32(w.shape, w.dataSync() as Float32Array));
}

class Builder {
  readonly nodes: IrNode[] = [];
  readonly initializers = new Map<string, Tensor>();

  init(name: string, t: Tensor): string {
    this.initializers.set(name, t);
    return name;
  }

  node(name: string, opType: string, inputs: string[], attributes: Record<string, Attribute> = {}): string {
    const output = `${name}_output`;
    this.nodes.push({ name, opType, domain: '', inputs, outputs: [output], attributes });
    return output;
  }
}

/** [kh, kw, in, out] → [out, in, kh, kw]. */
function convWeight(k: Tensor): Tensor {
  const [kh, kw, ci, co] = k.shape;
  const out = new Float32Array(k.data.length);
  const src = k.data as Float32Array;
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = src[((y * kw + x) * ci + i) * co + o];
  return float32([co, ci, kh, kw], out);
}

/** Dense kernel [in, out] → Gemm B [out, in], rows of a flattened NHWC input reordered to NCHW. */
function gemmWeight(k: Tensor, from?: { c: number; h: number; w: number }): Tensor {
  const [fin, fout] = k.shape;
  const src = k.data as Float32Array;
  const out = new Float32Array(src.length);
  for (let o = 0; o < fout; o++) {
    for (let i = 0; i < fin; i++) {
      let j = i; // NCHW feature index i ↦ NHWC row j
      if (from) {
        const c = Math.floor(i / (from.h * from.w));
        const hw = i % (from.h * from.w);
        j = hw * from.c + c;
      }
      out[o * fin + i] = src[j * fout + o];
    }
  }
  return float32([fout, fin], out);
}

function activation(b: Builder, layer: string, act: unknown, input: string): string {
  if (act === undefined || act === 'linear') return input;
  if (act === 'relu') return b.node(`${layer}_relu`, 'Relu', [input]);
  throw new UnsupportedOperatorError([{ opType: `activation ${String(act)}`, name: layer }], 'cannot export to ONNX');
}

function samePads(k: [number, number], stride: [number, number], size: [number, number]): number[] {
  const pads: number[] = [];
  const ends: number[] = [];
  for (let a = 0; a < 2; a++) {
    const out = Math.ceil(size[a] / stride[a]);
    const total = Math.max((out - 1) * stride[a] + k[a] - size[a], 0);
    pads.push(Math.floor(total / 2));
    ends.push(total - Math.floor(total / 2));
  }
  return [...pads, ...ends];
}

export function layersToIr(model: tfl.LayersModel, opts: { name: string; outputName?: string }): IrGraph {
  const b = new Builder();
  const values = new Map<string, Value>();
  // Sequential models list no inputLayers; their input tensors still name the source layer.
  const inputLayer = model.inputs[0].sourceLayer;
  const inShape = (model.inputs[0].shape as (number | null)[]).slice(1) as number[];
  const isImage = inShape.length === 3;
  const inputDims = isImage ? [inShape[2], inShape[0], inShape[1]] : inShape;
  values.set(inputLayer.name, {
    name: 'input',
    image: isImage ? { c: inShape[2], h: inShape[0], w: inShape[1] } : undefined,
  });

  for (const layer of model.layers) {
    if (values.has(layer.name)) continue;
    const cls = layer.getClassName();
    const config = layer.getConfig() as LayerConfig;
    const inbound = layer.inboundNodes[0].inboundLayers.map((l) => {
      const v = values.get(l.name);
      if (!v) throw new Error(`layer ${layer.name} reads ${l.name} before it is exported`);
      return v;
    });
    const x = inbound[0];
    const outShape = (layer.outputShape as (number | null)[]).slice(1) as number[];
    const image = outShape.length === 3 ? { h: outShape[0], w: outShape[1], c: outShape[2] } : undefined;
    const n = layer.name;
    let out: string;
    switch (cls) {
      case 'InputLayer':
        continue;
      case 'Conv2D': {
        const [kernel, bias] = weights(layer);
        const kernelSize = pair(config.kernelSize);
        const strides = pair(config.strides);
        const pads =
          config.padding === 'same' ? samePads(kernelSize, strides, [x.image!.h, x.image!.w]) : [0, 0, 0, 0];
        const inputs = [x.name, b.init(`${n}.weight`, convWeight(kernel))];
        if (bias) inputs.push(b.init(`${n}.bias`, bias));
        const y = b.node(n, 'Conv', inputs, {
          dilations: ints(pair(config.dilationRate)),
          group: { type: 'int', value: 1 },
          kernel_shape: ints(kernelSize),
          pads: ints(pads),
          strides: ints(strides),
        });
        out = activation(b, n, config.activation, y);
        break;
      }
      case 'Dense': {
        const [kernel, bias] = weights(layer);
        const inputs = [x.name, b.init(`${n}.weight`, gemmWeight(kernel, x.flattenedFrom))];
        if (bias) inputs.push(b.init(`${n}.bias`, bias));
        const y = b.node(n, 'Gemm', inputs, {
          alpha: { type: 'float', value: 1 },
          beta: { type: 'float', value: 1 },
          transB: { type: 'int', value: 1 },
        });
        out = activation(b, n, config.activation, y);
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        if (config.padding !== 'valid') {
          throw new UnsupportedOperatorError([{ opType: `${cls} padding ${String(config.padding)}`, name: n }], 'cannot export to ONNX');
        }
        out = b.node(n, cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [x.name], {
          kernel_shape: ints(pair(config.poolSize)),
          pads: ints([0, 0, 0, 0]),
          strides: ints(pair(config.strides ?? config.poolSize)),
        });
        break;
      }
      case 'BatchNormalization': {
        const axis = config.axis as number;
        if (axis !== -1 && axis !== 3) {
          throw new UnsupportedOperatorError([{ opType: `BatchNormalization axis ${axis}`, name: n }], 'cannot export to ONNX');
        }
        const w = weights(layer);
        const channels = x.image!.c;
        const gamma = config.scale ? w.shift()! : float32([channels], new Float32Array(channels).fill(1));
        const beta = config.center ? w.shift()! : float32([channels]);
        const [mean, variance] = w;
        out = b.node(
          n,
          'BatchNormalization',
          [x.name, b.init(`${n}.weight`, gamma), b.init(`${n}.bias`, beta), b.init(`${n}.running_mean`, mean), b.init(`${n}.running_var`, variance)],
          { epsilon: { type: 'float', value: config.epsilon as number }, momentum: { type: 'float', value: config.momentum as number } },
        );
        break;
      }
      case 'ReLU':
        out = b.node(n, 'Relu', [x.name]);
        break;
      case 'Activation':
        out = activation(b, n, config.activation, x.name);
        break;
      case 'Add':
        out = b.node(n, 'Add', inbound.map((v) => v.name));
        break;
      case 'Flatten':
        out = b.node(n, 'Flatten', [x.name], { axis: { type: 'int', value: 1 } });
        values.set(n, { name: out, flattenedFrom: x.image });
        continue;
      default:
        throw new UnsupportedOperatorError([{ opType: cls, name: n }], 'cannot export tfjs layer to ONNX');
    }
    values.set(n, { name: out, image });
  }

  const outputLayer = model.outputs[0].sourceLayer;
  const last = values.get(outputLayer.name)!;
  const outputName = opts.outputName ?? 'logits';
  for (const node of b.nodes) node.outputs = node.outputs.map((o) => (o === last.name ? outputName : o));
  const outShape = (outputLayer.outputShape as (number | null)[]).slice(1) as number[];
  const graph: IrGraph = {
    name: opts.name,
    irVersion: 7,
    opsetVersion: EXPORT_OPSET,
    producerName: 'blameboard',
    inputs: [{ name: 'input', dtype: 'float32', shape: ['N', ...inputDims] }],
    outputs: [{ name: outputName, dtype: 'float32', shape: ['N', ...outShape] }],
    initializers: b.initializers,
    nodes: b.nodes,
    values: new Map(),
  };
  inferShapes(graph);
  return graph;
}
