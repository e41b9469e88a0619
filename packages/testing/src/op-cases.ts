import type { Rng } from '@blameboard/core';
import { a, int64, randn, type GraphSpec } from './spec-graphs.js';

/**
 * One small graph per operator variant the tfjs executor must get right (groups, pads, strides,
 * dilations, auto_pad, ceil_mode, count_include_pad, opset differences, …). The weights come
 * from `rng`; names describe what each graph exercises.
 */
export function opCases(rng: Rng): Record<string, GraphSpec> {
  const w = (...shape: number[]) => randn(rng, shape, 0.5);
  const positive = (...shape: number[]) => {
    const t = randn(rng, shape);
    t.data = (t.data as Float32Array).map((v) => 0.5 + Math.abs(v));
    return t;
  };
  return {
    'conv: groups, asymmetric pads, strides, dilations, bias': {
      input: [4, 9, 8],
      nodes: [
        {
          op: 'Conv',
          inputs: ['x', 'W', 'B'],
          attrs: { group: a.int(2), strides: a.ints(2, 1), pads: a.ints(1, 0, 2, 1), dilations: a.ints(2, 1), kernel_shape: a.ints(3, 2) },
        },
      ],
      inits: { W: w(6, 2, 3, 2), B: w(6) },
    },
    'conv: auto_pad SAME_UPPER with stride 2': {
      input: [3, 7, 7],
      nodes: [{ op: 'Conv', inputs: ['x', 'W'], attrs: { auto_pad: a.str('SAME_UPPER'), strides: a.ints(2, 2) } }],
      inits: { W: w(5, 3, 3, 3) },
    },
    'conv: auto_pad SAME_LOWER with an even kernel': {
      input: [2, 5, 6],
      nodes: [{ op: 'Conv', inputs: ['x', 'W', 'B'], attrs: { auto_pad: a.str('SAME_LOWER') } }],
      inits: { W: w(3, 2, 2, 2), B: w(3) },
    },
    'conv: depthwise (group = channels, multiplier 2)': {
      input: [4, 6, 6],
      nodes: [{ op: 'Conv', inputs: ['x', 'W'], attrs: { group: a.int(4), pads: a.ints(1, 1, 1, 1) } }],
      inits: { W: w(8, 1, 3, 3) },
    },
    'conv: 1-D with pads, stride and dilation': {
      input: [3, 11],
      nodes: [{ op: 'Conv', inputs: ['x', 'W', 'B'], attrs: { pads: a.ints(1, 2), strides: a.ints(2), dilations: a.ints(2) } }],
      inits: { W: w(4, 3, 3), B: w(4) },
    },
    'convtranspose: strides, asymmetric pads, output_padding, bias': {
      input: [4, 5, 5],
      nodes: [
        {
          op: 'ConvTranspose',
          inputs: ['x', 'W', 'B'],
          attrs: { strides: a.ints(2, 2), pads: a.ints(1, 0, 1, 1), output_padding: a.ints(1, 0) },
        },
      ],
      inits: { W: w(4, 3, 3, 3), B: w(3) },
    },
    'convtranspose: groups and dilations': {
      input: [4, 4, 5],
      nodes: [{ op: 'ConvTranspose', inputs: ['x', 'W'], attrs: { group: a.int(2), dilations: a.ints(2, 1), strides: a.ints(1, 2) } }],
      inits: { W: w(4, 2, 2, 3) },
    },
    'maxpool: pads, stride, ceil_mode': {
      input: [3, 7, 6],
      nodes: [{ op: 'MaxPool', inputs: ['x'], attrs: { kernel_shape: a.ints(3, 3), strides: a.ints(2, 2), pads: a.ints(1, 1, 1, 1), ceil_mode: a.int(1) } }],
    },
    'maxpool: 2x2 stride 2, then 1-D maxpool': {
      input: [2, 6, 6],
      nodes: [
        { op: 'MaxPool', inputs: ['x'], attrs: { kernel_shape: a.ints(2, 2), strides: a.ints(2, 2) } },
        { op: 'Reshape', inputs: ['y0', 'shape'] },
        { op: 'MaxPool', inputs: ['y1'], attrs: { kernel_shape: a.ints(2), pads: a.ints(1, 0) } },
      ],
      inits: { shape: int64([0, 2, 9]) },
    },
    'averagepool: pads, count_include_pad = 0': {
      input: [3, 7, 6],
      nodes: [{ op: 'AveragePool', inputs: ['x'], attrs: { kernel_shape: a.ints(3, 3), strides: a.ints(2, 2), pads: a.ints(1, 1, 1, 1) } }],
    },
    'averagepool: pads, count_include_pad = 1': {
      input: [3, 7, 6],
      nodes: [
        {
          op: 'AveragePool',
          inputs: ['x'],
          attrs: { kernel_shape: a.ints(3, 2), strides: a.ints(2, 2), pads: a.ints(1, 0, 2, 1), count_include_pad: a.int(1) },
        },
      ],
    },
    'averagepool: ceil_mode': {
      input: [2, 7, 7],
      nodes: [{ op: 'AveragePool', inputs: ['x'], attrs: { kernel_shape: a.ints(2, 2), strides: a.ints(2, 2), ceil_mode: a.int(1) } }],
    },
    'global average and max pool': {
      input: [3, 5, 4],
      nodes: [
        { op: 'GlobalAveragePool', inputs: ['x'], output: 'avg' },
        { op: 'GlobalMaxPool', inputs: ['x'], output: 'max' },
        { op: 'Concat', inputs: ['avg', 'max'], attrs: { axis: a.int(1) } },
        { op: 'Flatten', inputs: ['y2'] },
      ],
    },
    'batch normalization': {
      input: [4, 5, 5],
      nodes: [{ op: 'BatchNormalization', inputs: ['x', 'scale', 'bias', 'mean', 'var'], attrs: { epsilon: a.float(1e-3) } }],
      inits: { scale: w(4), bias: w(4), mean: w(4), var: positive(4) },
    },
    'gemm: alpha, beta, transA, transB, 2-D bias': {
      input: [5],
      nodes: [
        { op: 'Gemm', inputs: ['x', 'W1', 'C1'], attrs: { alpha: a.float(0.5), beta: a.float(2) } },
        { op: 'Transpose', inputs: ['y0'] },
        { op: 'Gemm', inputs: ['y1', 'W2', 'C2'], attrs: { transA: a.int(1), transB: a.int(1), beta: a.float(-1) } },
      ],
      inits: { W1: w(5, 3), C1: w(1, 3), W2: w(2, 3), C2: w(2) },
    },
    'matmul: batched 3-D by 2-D, softmax on axis 1 (opset 13)': {
      input: [4, 5],
      nodes: [
        { op: 'MatMul', inputs: ['x', 'W'] },
        { op: 'Softmax', inputs: ['y0'], attrs: { axis: a.int(1) } },
      ],
      inits: { W: w(5, 3) },
    },
    'elementwise activations and broadcasting arithmetic': {
      input: [6],
      nodes: [
        { op: 'Sub', inputs: ['x', 'c6'] },
        { op: 'Mul', inputs: ['y0', 'c1'] },
        { op: 'Div', inputs: ['y1', 'p6'] },
        { op: 'Add', inputs: ['y2', 'c6'] },
        { op: 'LeakyRelu', inputs: ['y3'], attrs: { alpha: a.float(0.2) } },
        { op: 'Elu', inputs: ['y4'], attrs: { alpha: a.float(0.5) } },
        { op: 'Softplus', inputs: ['y5'] },
        { op: 'Sigmoid', inputs: ['y6'] },
        { op: 'Mul', inputs: ['y7', 'half'] },
        { op: 'Tanh', inputs: ['y8'] },
        { op: 'Elu', inputs: ['y9'] },
        // tanh(σ/2) lies in (0.24, 0.46): the clip at 0.4 cuts some entries, passes others
        { op: 'Clip', inputs: ['y10', 'lo', 'hi'] },
        { op: 'Neg', inputs: ['y11'] },
        { op: 'Identity', inputs: ['y12'] },
        { op: 'Dropout', inputs: ['y13'] },
        { op: 'Relu', inputs: ['y3'] },
        { op: 'Exp', inputs: ['y4'] },
        { op: 'Add', inputs: ['y14', 'y15'] },
        { op: 'Add', inputs: ['y17', 'y16'] },
      ],
      inits: {
        c6: w(6),
        c1: w(1),
        p6: positive(6),
        half: { dtype: 'float32', shape: [], data: Float32Array.of(0.5) },
        lo: { dtype: 'float32', shape: [], data: Float32Array.of(-0.6) },
        hi: { dtype: 'float32', shape: [], data: Float32Array.of(0.4) },
      },
    },
    'reshape (0, -1), unsqueeze, transpose, squeeze, concat, flatten': {
      input: [2, 3, 4],
      mixesBatch: true,
      nodes: [
        { op: 'Reshape', inputs: ['x', 's1'] },
        { op: 'Unsqueeze', inputs: ['y0', 'ax1'] },
        { op: 'Reshape', inputs: ['y1', 's2'] },
        { op: 'Transpose', inputs: ['y2'], attrs: { perm: a.ints(0, 2, 1) } },
        { op: 'Unsqueeze', inputs: ['y3', 'axm1'] },
        { op: 'Squeeze', inputs: ['y4', 'ax3'] },
        { op: 'Concat', inputs: ['y5', 'y3'], attrs: { axis: a.int(-1) } },
        { op: 'Flatten', inputs: ['y6'], attrs: { axis: a.int(2) } },
      ],
      inits: { s1: int64([0, -1]), ax1: int64([1]), s2: int64([0, 6, 4]), axm1: int64([-1]), ax3: int64([3]) },
    },
    'pad: constant (with a crop), reflect, edge': {
      input: [3, 4, 5],
      nodes: [
        { op: 'Pad', inputs: ['x', 'p1', 'v'] },
        { op: 'Pad', inputs: ['y0', 'p2'], attrs: { mode: a.str('reflect') } },
        { op: 'Pad', inputs: ['y1', 'p3'], attrs: { mode: a.str('edge') } },
      ],
      inits: {
        p1: int64([0, 0, 1, 2, 0, 0, 2, -1]),
        v: { dtype: 'float32', shape: [], data: Float32Array.of(0.5) },
        p2: int64([0, 0, 2, 1, 0, 0, 1, 2]),
        p3: int64([0, 1, 0, 3, 0, 2, 1, 0]),
      },
    },
    'constant node, log-softmax on axis 1': {
      input: [3, 4],
      nodes: [
        { op: 'Constant', inputs: [], output: 'k', attrs: { value: { type: 'tensor', value: { dtype: 'float32', shape: [4], data: Float32Array.of(1, -2, 0.5, 3) } } } },
        { op: 'Add', inputs: ['x', 'k'] },
        { op: 'LogSoftmax', inputs: ['y1'], attrs: { axis: a.int(1) } },
      ],
    },
    'hard sigmoid, hard swish, gelu (tanh), a gate product and a quotient (opset 20)': {
      input: [8],
      opset: 20,
      nodes: [
        { op: 'HardSigmoid', inputs: ['x'], attrs: { alpha: a.float(0.3), beta: a.float(0.4) } },
        { op: 'HardSwish', inputs: ['x'] },
        { op: 'Gelu', inputs: ['x'], attrs: { approximate: a.str('tanh') } },
        { op: 'Mul', inputs: ['y1', 'y0'] },
        { op: 'Sigmoid', inputs: ['y2'] },
        { op: 'Div', inputs: ['y3', 'p8'] },
        { op: 'Mul', inputs: ['y4', 'y5'] },
        { op: 'Sum', inputs: ['y6', 'y2', 'x'] },
      ],
      inits: { p8: positive(8) },
    },
    'erf and gelu (erf), opset 20': {
      input: [6],
      opset: 20,
      float64: false,
      nodes: [
        { op: 'Erf', inputs: ['x'] },
        { op: 'Gelu', inputs: ['y0'] },
        { op: 'Gelu', inputs: ['x'] },
        { op: 'Add', inputs: ['y1', 'y2'] },
      ],
    },
    'slice with steps (negative included), split, reduce-mean, cast (opset 18)': {
      input: [3, 7, 6],
      opset: 18,
      nodes: [
        { op: 'Slice', inputs: ['x', 's0', 'e0', 'a0', 'st0'] },
        { op: 'Slice', inputs: ['y0', 's1', 'e1', 'a1', 'st1'] },
        { op: 'Split', inputs: ['y1', 'sp'], outputs: ['p', 'q'], attrs: { axis: a.int(1) } },
        { op: 'ReduceMean', inputs: ['p', 'ra'], attrs: { keepdims: a.int(0) } },
        { op: 'ReduceMean', inputs: ['q', 'rb'] },
        { op: 'Cast', inputs: ['y4'], attrs: { to: a.int(1) } },
        { op: 'Flatten', inputs: ['y3'] },
        { op: 'Flatten', inputs: ['y5'] },
        { op: 'Concat', inputs: ['y6', 'y7'], attrs: { axis: a.int(1) } },
      ],
      inits: {
        s0: int64([1, -1]), e0: int64([7, -100]), a0: int64([2, 3]), st0: int64([2, -2]),
        s1: int64([0]), e1: int64([2]), a1: int64([1]), st1: int64([1]),
        sp: int64([1, 1]), ra: int64([2]), rb: int64([-1, 2]),
      },
    },
    'resize (opset 18 axes): nearest (asymmetric floor, half-pixel, align-corners) and linear': {
      input: [2, 3, 4],
      opset: 18,
      float64: false,
      nodes: [
        { op: 'Resize', inputs: ['x', '', 'up2'], attrs: { axes: a.ints(2, 3), mode: a.str('nearest'), coordinate_transformation_mode: a.str('asymmetric'), nearest_mode: a.str('floor') } },
        { op: 'Resize', inputs: ['x', '', '', 'size57'], attrs: { axes: a.ints(2, 3), mode: a.str('nearest'), nearest_mode: a.str('round_prefer_ceil') } },
        { op: 'Resize', inputs: ['x', '', '', 'size57'], attrs: { axes: a.ints(2, 3), mode: a.str('nearest'), coordinate_transformation_mode: a.str('align_corners'), nearest_mode: a.str('round_prefer_ceil') } },
        { op: 'Resize', inputs: ['x', '', 'up2'], attrs: { axes: a.ints(2, 3), mode: a.str('linear') } },
        { op: 'Resize', inputs: ['x', '', '', 'size57'], attrs: { axes: a.ints(2, 3), mode: a.str('linear'), coordinate_transformation_mode: a.str('align_corners') } },
        { op: 'Resize', inputs: ['x', '', '', 'size57'], attrs: { axes: a.ints(2, 3), mode: a.str('linear'), coordinate_transformation_mode: a.str('asymmetric') } },
        { op: 'Flatten', inputs: ['y0'] },
        { op: 'Flatten', inputs: ['y1'] },
        { op: 'Flatten', inputs: ['y2'] },
        { op: 'Flatten', inputs: ['y3'] },
        { op: 'Flatten', inputs: ['y4'] },
        { op: 'Flatten', inputs: ['y5'] },
        { op: 'Concat', inputs: ['y6', 'y7', 'y8', 'y9', 'y10', 'y11'], attrs: { axis: a.int(1) } },
      ],
      inits: {
        up2: { dtype: 'float32', shape: [2], data: Float32Array.of(2, 2) },
        size57: int64([5, 7]),
      },
    },
    'opset 11: softmax coerced to 2-D, attribute axes, clip attributes': {
      opset: 11,
      input: [3, 4],
      nodes: [
        { op: 'Unsqueeze', inputs: ['x'], attrs: { axes: a.ints(1) } },
        { op: 'Squeeze', inputs: ['y0'], attrs: { axes: a.ints(1) } },
        { op: 'Softmax', inputs: ['y1'], attrs: { axis: a.int(1) } },
        { op: 'Mul', inputs: ['y2', 'ten'] },
        { op: 'Clip', inputs: ['y3', 'lo'] },
      ],
      inits: { ten: { dtype: 'float32', shape: [], data: Float32Array.of(10) }, lo: { dtype: 'float32', shape: [], data: Float32Array.of(0.3) } },
    },
  };
}
