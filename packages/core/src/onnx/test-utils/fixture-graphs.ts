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

const f32 = (values: number[], shape: number[] = [values.length]): Tensor => ({ dtype: 'float32', shape, data: Float32Array.from(values) });

/** Inference BatchNormalization parameters with a shifted mean and a spread variance, so folding matters. */
function batchNorm(g: IrGraph, rng: Rng, prefix: string, c: number): string[] {
  const names = ['scale', 'bias', 'mean', 'var'].map((k) => `${prefix}_${k}`);
  g.initializers.set(names[0], randomTensor(rng, [c], 0.3, 1));
  g.initializers.set(names[1], randomTensor(rng, [c], 0.2));
  g.initializers.set(names[2], randomTensor(rng, [c], 0.3));
  g.initializers.set(names[3], f32(Array.from({ length: c }, () => 0.5 + rng.next())));
  return names;
}

/**
 * What paddle2onnx writes at opset 9 for a MobileNetV3-style net (input 'image' [N, 3, 16, 16]):
 * conv + BatchNormalization + ReLU6 as Clip with min/max attributes; a depthwise conv + BN +
 * HardSwish spelt HardSigmoid(α = 1/6)·x; a squeeze-excitation block (GlobalAveragePool → 1×1
 * conv → ReLU → 1×1 conv → HardSigmoid → Mul); an Upsample ×2 (scales as a Constant input, opset 9)
 * and a 2×2 MaxPool; a residual Add; the flatten paddle writes as Shape → Slice (attributes) →
 * Concat → Reshape; a dense layer as MatMul + Add; and a trailing Softmax.
 */
export function paddleStyleOpset9Graph(seed = 9): IrGraph {
  const rng = new Rng(seed);
  const g = emptyGraph({ name: 'image', shape: ['N', 3, 16, 16] }, 9);
  g.irVersion = 4;
  g.producerName = 'PaddlePaddle';
  const init = (name: string, t: Tensor) => g.initializers.set(name, t);
  init('conv1_weights', randomTensor(rng, [8, 3, 3, 3], 0.4));
  init('dw_weights', randomTensor(rng, [8, 1, 3, 3], 0.5));
  init('se_fc1_weights', randomTensor(rng, [4, 8, 1, 1], 0.5));
  init('se_fc1_offset', randomTensor(rng, [4], 0.1));
  init('se_fc2_weights', randomTensor(rng, [8, 4, 1, 1], 0.5));
  init('se_fc2_offset', randomTensor(rng, [8], 0.1));
  init('pw_weights', randomTensor(rng, [8, 8, 1, 1], 0.4));
  init('fc_weights', randomTensor(rng, [8 * 8 * 8, 5], 0.05));
  init('fc_offset', randomTensor(rng, [5], 0.1));
  const bn1 = batchNorm(g, rng, 'conv1_bn', 8);
  const bn2 = batchNorm(g, rng, 'dw_bn', 8);
  const bn3 = batchNorm(g, rng, 'pw_bn', 8);
  g.nodes.push(
    node('Conv', 'conv2d_0', ['image', 'conv1_weights'], ['conv2d_0.tmp_0'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]), strides: ints([2, 2]), group: int(1), dilations: ints([1, 1]) }),
    node('BatchNormalization', 'batch_norm_0', ['conv2d_0.tmp_0', ...bn1], ['batch_norm_0.tmp_2'], { epsilon: float(1e-5), momentum: float(0.9) }),
    node('Clip', 'relu6_0', ['batch_norm_0.tmp_2'], ['relu6_0.tmp_0'], { min: float(0), max: float(6) }),
    node('Conv', 'depthwise_conv2d_0', ['relu6_0.tmp_0', 'dw_weights'], ['depthwise_conv2d_0.tmp_0'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]), strides: ints([1, 1]), group: int(8) }),
    node('BatchNormalization', 'batch_norm_1', ['depthwise_conv2d_0.tmp_0', ...bn2], ['batch_norm_1.tmp_2'], { epsilon: float(1e-5) }),
    node('HardSigmoid', 'hard_swish_0.hs', ['batch_norm_1.tmp_2'], ['hard_swish_0.tmp_h'], { alpha: float(1 / 6), beta: float(0.5) }),
    node('Mul', 'hard_swish_0', ['batch_norm_1.tmp_2', 'hard_swish_0.tmp_h'], ['hard_swish_0.tmp_0']),
    node('GlobalAveragePool', 'pool2d_0', ['hard_swish_0.tmp_0'], ['pool2d_0.tmp_0']),
    node('Conv', 'se_fc1', ['pool2d_0.tmp_0', 'se_fc1_weights', 'se_fc1_offset'], ['se_fc1.tmp_0'], { kernel_shape: ints([1, 1]) }),
    node('Relu', 'relu_0', ['se_fc1.tmp_0'], ['relu_0.tmp_0']),
    node('Conv', 'se_fc2', ['relu_0.tmp_0', 'se_fc2_weights', 'se_fc2_offset'], ['se_fc2.tmp_0'], { kernel_shape: ints([1, 1]) }),
    node('HardSigmoid', 'hard_sigmoid_0', ['se_fc2.tmp_0'], ['hard_sigmoid_0.tmp_0'], { alpha: float(0.2), beta: float(0.5) }),
    node('Mul', 'elementwise_mul_0', ['hard_swish_0.tmp_0', 'hard_sigmoid_0.tmp_0'], ['elementwise_mul_0.tmp_0']),
    node('Conv', 'pw_conv', ['elementwise_mul_0.tmp_0', 'pw_weights'], ['pw_conv.tmp_0'], { kernel_shape: ints([1, 1]) }),
    node('BatchNormalization', 'batch_norm_2', ['pw_conv.tmp_0', ...bn3], ['batch_norm_2.tmp_2'], { epsilon: float(1e-5) }),
    node('Add', 'elementwise_add_0', ['batch_norm_2.tmp_2', 'relu6_0.tmp_0'], ['elementwise_add_0.tmp_0']),
    constantNode('scales', 'upsample_scales', f32([1, 1, 2, 2])),
    node('Upsample', 'nearest_interp_0', ['elementwise_add_0.tmp_0', 'upsample_scales'], ['nearest_interp_0.tmp_0'], { mode: str('nearest') }),
    node('MaxPool', 'pool2d_1', ['nearest_interp_0.tmp_0'], ['pool2d_1.tmp_0'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
    node('Shape', 'shape_0', ['pool2d_1.tmp_0'], ['shape_0.tmp_0']),
    node('Slice', 'slice_0', ['shape_0.tmp_0'], ['slice_0.tmp_0'], { starts: ints([0]), ends: ints([1]), axes: ints([0]) }),
    constantNode('minus_one', 'fill_constant_0.tmp_0', int64s([-1])),
    node('Concat', 'concat_0', ['slice_0.tmp_0', 'fill_constant_0.tmp_0'], ['concat_0.tmp_0'], { axis: int(0) }),
    node('Reshape', 'reshape2_0', ['pool2d_1.tmp_0', 'concat_0.tmp_0'], ['reshape2_0.tmp_0']),
    node('MatMul', 'matmul_0', ['reshape2_0.tmp_0', 'fc_weights'], ['matmul_0.tmp_0']),
    node('Add', 'elementwise_add_1', ['matmul_0.tmp_0', 'fc_offset'], ['fc_0.tmp_1']),
    node('Softmax', 'softmax_0', ['fc_0.tmp_1'], ['softmax_0.tmp_0'], { axis: int(1) }),
  );
  g.outputs = [{ name: 'softmax_0.tmp_0', dtype: 'float32', shape: ['N', 5] }];
  return g;
}

/**
 * What tf2onnx writes (opset 13) for a small Keras MobileNet-style classifier: an NHWC input
 * 'input_1' [unk__12, 12, 12, 3] transposed to NCHW, ReLU6 as Clip with Constant bounds, a
 * depthwise conv, HardSwish as x·Clip(x + 3, 0, 6)·(1/6), SiLU as x·σ(x), Keras'
 * GlobalAveragePooling2D as ReduceMean over H, W of the NHWC tensor, a Dense layer as MatMul + Add,
 * and the Softmax Keras puts on the output.
 */
export function tf2onnxStyleGraph(seed = 13): IrGraph {
  const rng = new Rng(seed);
  const g = emptyGraph({ name: 'input_1', shape: ['N', 12, 12, 3] }, 13);
  g.producerName = 'tf2onnx';
  const init = (name: string, t: Tensor) => g.initializers.set(name, t);
  init('model/conv/Conv2D/ReadVariableOp:0', randomTensor(rng, [6, 3, 3, 3], 0.4));
  init('model/conv/BiasAdd/ReadVariableOp:0', randomTensor(rng, [6], 0.2));
  init('model/dw/depthwise/ReadVariableOp:0', randomTensor(rng, [6, 1, 3, 3], 0.5));
  init('model/dw/BiasAdd/ReadVariableOp:0', randomTensor(rng, [6], 0.2));
  init('model/dense/MatMul/ReadVariableOp:0', randomTensor(rng, [6, 4], 0.5));
  init('model/dense/BiasAdd/ReadVariableOp:0', randomTensor(rng, [4], 0.1));
  g.nodes.push(
    node('Transpose', 'model/conv/Conv2D__6', ['input_1'], ['model/conv/Conv2D__6:0'], { perm: ints([0, 3, 1, 2]) }),
    node('Conv', 'model/conv/Conv2D', ['model/conv/Conv2D__6:0', 'model/conv/Conv2D/ReadVariableOp:0', 'model/conv/BiasAdd/ReadVariableOp:0'], ['model/conv/BiasAdd:0'], {
      kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]), strides: ints([1, 1]), dilations: ints([1, 1]), group: int(1),
    }),
    constantNode('zero__1', 'zero__1:0', f32([0], [])),
    constantNode('six__2', 'six__2:0', f32([6], [])),
    node('Clip', 'model/re_lu/Relu6', ['model/conv/BiasAdd:0', 'zero__1:0', 'six__2:0'], ['model/re_lu/Relu6:0']),
    node('Conv', 'model/dw/depthwise', ['model/re_lu/Relu6:0', 'model/dw/depthwise/ReadVariableOp:0', 'model/dw/BiasAdd/ReadVariableOp:0'], ['model/dw/BiasAdd:0'], {
      kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]), strides: ints([2, 2]), group: int(6),
    }),
    constantNode('three__3', 'three__3:0', f32([3], [])),
    node('Add', 'model/hs/add', ['model/dw/BiasAdd:0', 'three__3:0'], ['model/hs/add:0']),
    node('Clip', 'model/hs/Relu6', ['model/hs/add:0', 'zero__1:0', 'six__2:0'], ['model/hs/Relu6:0']),
    node('Mul', 'model/hs/mul', ['model/dw/BiasAdd:0', 'model/hs/Relu6:0'], ['model/hs/mul:0']),
    constantNode('sixth__4', 'sixth__4:0', f32([1 / 6], [])),
    node('Mul', 'model/hs/truediv', ['model/hs/mul:0', 'sixth__4:0'], ['model/hs/truediv:0']),
    node('Sigmoid', 'model/swish/Sigmoid', ['model/hs/truediv:0'], ['model/swish/Sigmoid:0']),
    node('Mul', 'model/swish/mul', ['model/hs/truediv:0', 'model/swish/Sigmoid:0'], ['model/swish/mul:0']),
    node('Transpose', 'model/swish/mul__10', ['model/swish/mul:0'], ['model/swish/mul__10:0'], { perm: ints([0, 2, 3, 1]) }),
    node('ReduceMean', 'model/gap/Mean', ['model/swish/mul__10:0'], ['model/gap/Mean:0'], { axes: ints([1, 2]), keepdims: int(0) }),
    node('MatMul', 'model/dense/MatMul', ['model/gap/Mean:0', 'model/dense/MatMul/ReadVariableOp:0'], ['model/dense/MatMul:0']),
    node('Add', 'model/dense/BiasAdd', ['model/dense/MatMul:0', 'model/dense/BiasAdd/ReadVariableOp:0'], ['model/dense/BiasAdd:0']),
    node('Softmax', 'model/dense/Softmax', ['model/dense/BiasAdd:0'], ['dense'], { axis: int(-1) }),
  );
  g.outputs = [{ name: 'dense', dtype: 'float32', shape: ['N', 4] }];
  return g;
}
