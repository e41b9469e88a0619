import { describe, expect, it } from 'vitest';
import { mlpGraph, node } from '../onnx/test-utils/fixture-graphs.js';
import { SUPPORTED_OPS, unsupportedOps } from './support.js';

describe('unsupportedOps', () => {
  it('covers the operators of SPEC §2.1', () => {
    const spec = 'Conv ConvTranspose Gemm MatMul Add Sub Mul Div Relu LeakyRelu Sigmoid Tanh Softplus Elu MaxPool AveragePool GlobalAveragePool GlobalMaxPool BatchNormalization Flatten Reshape Transpose Squeeze Unsqueeze Concat Pad Identity Dropout Constant'.split(' ');
    for (const op of spec) expect(SUPPORTED_OPS).toContain(op);
  });

  it('lists unknown operators and other domains by op type and node name, in graph order', () => {
    const g = mlpGraph();
    expect(unsupportedOps(g)).toEqual([]);
    g.nodes.push(node('Erf', 'erf_1', ['y'], ['z']), node('Relu', 'ms_relu', ['z'], ['w']));
    g.nodes[g.nodes.length - 1].domain = 'com.microsoft';
    g.nodes.unshift(node('NonZero', 'nz', ['x'], ['idx']));
    expect(unsupportedOps(g)).toEqual([
      { opType: 'NonZero', name: 'nz' },
      { opType: 'Erf', name: 'erf_1' },
      { opType: 'com.microsoft.Relu', name: 'ms_relu' },
    ]);
  });
});
