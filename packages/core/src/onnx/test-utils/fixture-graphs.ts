import { Rng } from '../../rng.js';
import type { Tensor } from '../../tensor.js';
import type { Attribute, Dim, IrGraph, IrNode } from '../../ir/types.js';
import { ModelProto, type OnnxModelProto } from '../onnx.proto.js';
import { encodeModel, writeOnnx } from '../write.js';

/** Small helpers that build IR graphs for fixtures and tests (not shipped: excluded from the build). */
export function emptyGraph(input: { name: string; shape: Dim[] }, opset = 13): IrGraph {
  return {
    name: 'fixture',
    irVersion: 7,
    opsetVersion: opset,
    producerName: 'blameboard-fixtures',
    inputs: [{ name: input.name, dtype: 'float32', shape: input.shape }],
    outputs: [],
    initializers: new Map(),
    nodes: [],
    values: new Map(),
  };
}

export function node(opType: string, name: string, inputs: string[], outputs: string[], attributes: Record<string, Attribute> = {}): IrNode {
  return { name, opType, domain: '', inputs, outputs, attributes };
}

export const ints = (value: number[]): Attribute => ({ type: 'ints', value });
export const int = (value: number): Attribute => ({ type: 'int', value });
export const float = (value: number): Attribute => ({ type: 'float', value });
export const str = (value: string): Attribute => ({ type: 'string', value });

export function randomTensor(rng: Rng, shape: number[], std = 0.3, mean = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: rng.fillNormal(new Float32Array(n), mean, std) as Float32Array };
}

export function int64s(values: number[], shape: number[] = [values.length]): Tensor {
  return { dtype: 'int64', shape, data: BigInt64Array.from(values, (v) => BigInt(v)) };
}

export function constantNode(name: string, output: string, value: Tensor): IrNode {
  return node('Constant', name, [], [output], { value: { type: 'tensor', value } });
}

/**
 * What `torch.onnx.export` (opset 13) writes for
 *   conv(3→4) → bn → relu → F.pad(1) → avg_pool(3, 2, padding 1, ceil_mode, count_include_pad=False)
 *   → x.view(x.size(0), -1) → linear(144→3)
 * BatchNormalization is kept (export in eval mode without folding), the view is the
 * Shape→Gather→Unsqueeze→Concat→Reshape chain with Constant nodes, names as PyTorch spells them.
 */
export function pytorchStyleGraph(seed = 7): IrGraph {
  const rng = new Rng(seed);
  const g = emptyGraph({ name: 'input', shape: ['N', 3, 8, 8] });
  g.producerName = 'pytorch';
  const init = (name: string, t: Tensor) => g.initializers.set(name, t);
  init('conv.weight', randomTensor(rng, [4, 3, 3, 3]));
  init('conv.bias', randomTensor(rng, [4], 0.1));
  init('bn.weight', randomTensor(rng, [4], 0.2, 1));
  init('bn.bias', randomTensor(rng, [4], 0.1));
  init('bn.running_mean', randomTensor(rng, [4], 0.2));
  init('bn.running_var', { dtype: 'float32', shape: [4], data: Float32Array.from([0.5, 1.0, 1.5, 2.0]) });
  init('fc.weight', randomTensor(rng, [3, 144], 0.1));
  init('fc.bias', randomTensor(rng, [3], 0.1));
  g.nodes.push(
    node('Conv', '/conv/Conv', ['input', 'conv.weight', 'conv.bias'], ['/conv/Conv_output_0'], {
      dilations: ints([1, 1]), group: int(1), kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]), strides: ints([1, 1]),
    }),
    node('BatchNormalization', '/bn/BatchNormalization', ['/conv/Conv_output_0', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'], ['/bn/BatchNormalization_output_0'], {
      epsilon: float(1e-5), momentum: float(0.9),
    }),
    node('Relu', '/relu/Relu', ['/bn/BatchNormalization_output_0'], ['/relu/Relu_output_0']),
    constantNode('/Constant', '/Constant_output_0', int64s([0, 0, 1, 1, 0, 0, 1, 1])),
    constantNode('/Constant_1', '/Constant_1_output_0', { dtype: 'float32', shape: [], data: Float32Array.of(0) }),
    node('Pad', '/Pad', ['/relu/Relu_output_0', '/Constant_output_0', '/Constant_1_output_0'], ['/Pad_output_0'], { mode: str('constant') }),
    node('AveragePool', '/pool/AveragePool', ['/Pad_output_0'], ['/pool/AveragePool_output_0'], {
      ceil_mode: int(1), count_include_pad: int(0), kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]), strides: ints([2, 2]),
    }),
    node('Shape', '/Shape', ['/pool/AveragePool_output_0'], ['/Shape_output_0']),
    constantNode('/Constant_2', '/Constant_2_output_0', int64s([0], [])),
    node('Gather', '/Gather', ['/Shape_output_0', '/Constant_2_output_0'], ['/Gather_output_0'], { axis: int(0) }),
    constantNode('/Constant_3', '/Constant_3_output_0', int64s([0])),
    node('Unsqueeze', '/Unsqueeze', ['/Gather_output_0', '/Constant_3_output_0'], ['/Unsqueeze_output_0']),
    constantNode('/Constant_4', '/Constant_4_output_0', int64s([-1])),
    node('Concat', '/Concat', ['/Unsqueeze_output_0', '/Constant_4_output_0'], ['/Concat_output_0'], { axis: int(0) }),
    node('Reshape', '/Reshape', ['/pool/AveragePool_output_0', '/Concat_output_0'], ['/Reshape_output_0']),
    node('Gemm', '/fc/Gemm', ['/Reshape_output_0', 'fc.weight', 'fc.bias'], ['output'], { alpha: float(1), beta: float(1), transB: int(1) }),
  );
  g.outputs = [{ name: 'output', dtype: 'float32', shape: ['N', 3] }];
  return g;
}

/** input [N, 4] → Gemm(4→5) → Relu → Gemm(5→3) [→ tail op]. */
export function mlpGraph(opts: { tail?: 'Softmax' | 'LogSoftmax'; hidden?: string; seed?: number } = {}): IrGraph {
  const rng = new Rng(opts.seed ?? 3);
  const g = emptyGraph({ name: 'x', shape: ['N', 4] });
  g.initializers.set('w1', randomTensor(rng, [5, 4], 0.6));
  g.initializers.set('b1', randomTensor(rng, [5], 0.2));
  g.initializers.set('w2', randomTensor(rng, [3, 5], 0.6));
  g.initializers.set('b2', randomTensor(rng, [3], 0.2));
  g.nodes.push(
    node('Gemm', 'fc1', ['x', 'w1', 'b1'], ['h'], { transB: int(1) }),
    node(opts.hidden ?? 'Relu', 'act', ['h'], ['a']),
    node('Gemm', 'fc2', ['a', 'w2', 'b2'], [opts.tail ? 'logits' : 'y'], { transB: int(1) }),
  );
  if (opts.tail) g.nodes.push(node(opts.tail, 'head', ['logits'], ['y'], { axis: int(1) }));
  g.outputs = [{ name: 'y', dtype: 'float32', shape: ['N', 3] }];
  return g;
}

export function decode(bytes: Uint8Array): OnnxModelProto {
  return ModelProto.decode(bytes) as unknown as OnnxModelProto;
}

/** Renames the batch dims of inputs and outputs the way PyTorch's dynamic_axes does. */
export function withBatchParam(bytes: Uint8Array, param = 'batch_size'): Uint8Array {
  const m = decode(bytes);
  for (const v of [...m.graph!.input, ...m.graph!.output]) {
    const d = v.type!.tensor_type!.shape!.dim[0];
    d.dim_param = param;
    d.value = 'dim_param';
  }
  return encodeModel(m);
}

/**
 * Moves one initializer's bytes out to `location` (written by the caller) after `offset` bytes of
 * padding; returns the model bytes and the data-file bytes.
 */
export function externalize(graph: IrGraph, initializer: string, location: string, offset = 16): { model: Uint8Array; data: Uint8Array } {
  const m = decode(writeOnnx(graph));
  const tp = m.graph!.initializer.find((t) => t.name === initializer)!;
  const raw = tp.raw_data;
  const data = new Uint8Array(offset + raw.length);
  data.set(raw, offset);
  delete (tp as { raw_data?: Uint8Array }).raw_data;
  tp.data_location = 1;
  tp.external_data = [
    { key: 'location', value: location },
    { key: 'offset', value: String(offset) },
    { key: 'length', value: String(raw.length) },
  ];
  return { model: encodeModel(m), data };
}
