import { describe, expect, it } from 'vitest';
import { mlpGraph, node } from '../onnx/test-utils/fixture-graphs.js';
import { UnsupportedOperatorError } from '../errors.js';
import { SUPPORTED_OPS, unsupportedOps } from './support.js';

describe('unsupportedOps', () => {
  it('covers the operators of SPEC §2.1', () => {
    const spec = 'Conv ConvTranspose Gemm MatMul Add Sub Mul Div Relu LeakyRelu Sigmoid Tanh Softplus Elu MaxPool AveragePool GlobalAveragePool GlobalMaxPool BatchNormalization Flatten Reshape Transpose Squeeze Unsqueeze Concat Pad Identity Dropout Constant Clip HardSigmoid HardSwish Erf Slice Split ReduceMean Resize Cast'.split(' ');
    for (const op of spec) expect(SUPPORTED_OPS).toContain(op);
  });

  it('lists unknown operators and other domains by op type and node name, in graph order', () => {
    const g = mlpGraph();
    expect(unsupportedOps(g)).toEqual([]);
    g.nodes.push(node('Sin', 'sin_1', ['y'], ['z']), node('Relu', 'ms_relu', ['z'], ['w']));
    g.nodes[g.nodes.length - 1].domain = 'com.microsoft';
    g.nodes.unshift(node('NonZero', 'nz', ['x'], ['idx']));
    expect(unsupportedOps(g)).toEqual([
      { opType: 'NonZero', name: 'nz' },
      { opType: 'Sin', name: 'sin_1' },
      { opType: 'com.microsoft.Relu', name: 'ms_relu' },
    ]);
  });
});

describe('UnsupportedOperatorError', () => {
  it('groups the nodes by op type, with a count and the first node of each, in order of first appearance', () => {
    const ops = [
      ...Array.from({ length: 35 }, (_, i) => ({ opType: 'Clip', name: `/features/${i}/Clip` })),
      { opType: 'Sin', name: 'sin_1' },
      { opType: 'HardSigmoid', name: 'hs_0' },
      { opType: 'HardSigmoid', name: 'hs_1' },
    ];
    const e = new UnsupportedOperatorError(ops, 'no backward rule for');
    expect(e.message).toBe("no backward rule for: Clip (35 nodes, first '/features/0/Clip'), Sin (node 'sin_1'), HardSigmoid (2 nodes, first 'hs_0')");
    expect(e.ops).toHaveLength(38);
  });
});
