import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng.js';
import type { Tensor } from '../tensor.js';
import { writeOnnx } from '../onnx/write.js';
import { OnnxSession } from '../runtime/session.js';
import { emptyGraph, float, int, int64s, ints, node, randomTensor, str } from '../onnx/test-utils/fixture-graphs.js';
import { inferShapes, UNKNOWN_DIM } from './shape-inference.js';
import type { Attribute, Dim, IrGraph, IrNode } from './types.js';

/**
 * Shape inference is checked against onnxruntime: every node output becomes a graph output,
 * onnxruntime runs the graph on a batch of 3, and the shapes it returns must equal the inferred
 * ones with 'N' = 3.
 */
const BATCH = 3;
const sessions: OnnxSession[] = [];
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
});

interface Case {
  name: string;
  input: Dim[];
  nodes: IrNode[];
  inits?: Record<string, Tensor>;
  opset?: number;
  /** Dims inference may leave unknown ('?', e.g. 2N after flattening the batch in). */
  unknownOk?: boolean;
}

function graphOf(c: Case): IrGraph {
  const g = emptyGraph({ name: 'x', shape: c.input }, c.opset ?? 13);
  for (const [k, t] of Object.entries(c.inits ?? {})) g.initializers.set(k, t);
  g.nodes = c.nodes;
  const last = c.nodes[c.nodes.length - 1].outputs[0];
  g.outputs = [{ name: last, dtype: 'float32', shape: [] }];
  return g;
}

async function expectMatchesOnnxruntime(c: Case): Promise<IrGraph> {
  const g = graphOf(c);
  inferShapes(g);
  const produced = c.nodes.flatMap((n) => n.outputs).filter((o) => o !== '');
  for (const name of produced) expect(g.values.has(name), `no shape inferred for ${name}`).toBe(true);
  const probe: IrGraph = {
    ...g,
    outputs: produced.map((name) => {
      const v = g.values.get(name)!;
      return { name, dtype: v.dtype, shape: v.shape.map(() => UNKNOWN_DIM) };
    }),
  };
  const session = await OnnxSession.create(writeOnnx(probe), { intraOpNumThreads: 1 });
  sessions.push(session);
  const shape = c.input.map((d) => (d === 'N' ? BATCH : (d as number)));
  const x = randomTensor(new Rng(1), shape, 1);
  const out = await session.run({ x });
  for (const name of produced) {
    const inferred = g.values.get(name)!;
    const actual = out[name].shape;
    const expected = inferred.shape.map((d, i) => (d === 'N' ? BATCH : d === UNKNOWN_DIM && c.unknownOk ? actual[i] : d));
    expect(actual, `${c.name}: ${name}`).toEqual(expected);
    expect(out[name].dtype, `${c.name}: dtype of ${name}`).toBe(inferred.dtype);
  }
  return g;
}

const rng = new Rng(42);
const w = (...shape: number[]) => randomTensor(rng, shape);
const one = (op: string, attrs: Record<string, Attribute> = {}, extra: string[] = [], outputs = ['y']) =>
  node(op, op.toLowerCase(), ['x', ...extra], outputs, attrs);

const cases: Case[] = [
  {
    name: 'Conv groups/strides/dilations/asymmetric pads',
    input: ['N', 4, 9, 7],
    inits: { w: w(6, 2, 3, 2), b: w(6) },
    nodes: [one('Conv', { group: int(2), strides: ints([2, 1]), dilations: ints([2, 1]), pads: ints([1, 0, 2, 1]) }, ['w', 'b'])],
  },
  { name: 'Conv SAME_UPPER', input: ['N', 3, 7, 7], inits: { w: w(2, 3, 3, 3) }, nodes: [one('Conv', { auto_pad: str('SAME_UPPER'), strides: ints([2, 2]) }, ['w'])] },
  { name: 'Conv SAME_LOWER', input: ['N', 3, 8, 5], inits: { w: w(2, 3, 2, 3) }, nodes: [one('Conv', { auto_pad: str('SAME_LOWER'), strides: ints([3, 2]) }, ['w'])] },
  { name: 'Conv VALID dilated', input: ['N', 3, 9, 9], inits: { w: w(2, 3, 3, 3) }, nodes: [one('Conv', { auto_pad: str('VALID'), strides: ints([2, 2]), dilations: ints([2, 2]) }, ['w'])] },
  { name: 'Conv 1-D', input: ['N', 2, 10], inits: { w: w(3, 2, 4) }, nodes: [one('Conv', { strides: ints([3]), kernel_shape: ints([4]) }, ['w'])] },
  {
    name: 'ConvTranspose strides/pads/output_padding',
    input: ['N', 3, 5, 5],
    inits: { w: w(3, 2, 3, 3) },
    nodes: [one('ConvTranspose', { strides: ints([2, 2]), pads: ints([1, 1, 0, 0]), output_padding: ints([1, 0]) }, ['w'])],
  },
  { name: 'ConvTranspose groups/dilations', input: ['N', 4, 3, 3], inits: { w: w(4, 1, 2, 2) }, nodes: [one('ConvTranspose', { group: int(2), dilations: ints([2, 1]) }, ['w'])] },
  { name: 'ConvTranspose output_shape', input: ['N', 2, 4, 4], inits: { w: w(2, 2, 3, 3) }, nodes: [one('ConvTranspose', { strides: ints([2, 2]), output_shape: ints([8, 9]) }, ['w'])] },
  { name: 'ConvTranspose SAME_UPPER', input: ['N', 2, 4, 5], inits: { w: w(2, 2, 3, 3) }, nodes: [one('ConvTranspose', { strides: ints([2, 2]), auto_pad: str('SAME_UPPER') }, ['w'])] },
  {
    name: 'MaxPool ceil_mode with indices',
    input: ['N', 2, 8, 8],
    nodes: [one('MaxPool', { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), ceil_mode: int(1) }, [], ['y', 'idx'])],
  },
  { name: 'MaxPool dilations', input: ['N', 2, 9, 9], nodes: [one('MaxPool', { kernel_shape: ints([2, 2]), dilations: ints([2, 2]), strides: ints([1, 2]) })] },
  { name: 'MaxPool SAME_UPPER', input: ['N', 1, 7, 6], nodes: [one('MaxPool', { kernel_shape: ints([3, 3]), strides: ints([2, 2]), auto_pad: str('SAME_UPPER') })] },
  {
    name: 'AveragePool ceil_mode count_include_pad',
    input: ['N', 2, 7, 7],
    nodes: [one('AveragePool', { kernel_shape: ints([2, 2]), strides: ints([2, 2]), ceil_mode: int(1), count_include_pad: int(1), pads: ints([1, 0, 1, 0]) })],
  },
  { name: 'AveragePool ceil_mode dropping the last window', input: ['N', 1, 5, 5], nodes: [one('AveragePool', { kernel_shape: ints([2, 2]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), ceil_mode: int(1) })] },
  { name: 'AveragePool floor', input: ['N', 1, 7, 7], nodes: [one('AveragePool', { kernel_shape: ints([3, 3]), strides: ints([2, 2]) })] },
  { name: 'GlobalAveragePool', input: ['N', 3, 5, 4], nodes: [one('GlobalAveragePool')] },
  { name: 'GlobalMaxPool', input: ['N', 3, 5], nodes: [one('GlobalMaxPool')] },
  { name: 'Gemm transA transB', input: ['N', 5], inits: { b: w(4, 5), c: w(4) }, nodes: [node('Transpose', 't', ['x'], ['xt']), node('Gemm', 'g', ['xt', 'b', 'c'], ['y'], { transA: int(1), transB: int(1) })] },
  { name: 'Gemm', input: ['N', 5], inits: { b: w(5, 2) }, nodes: [one('Gemm', { alpha: float(2) }, ['b'])] },
  { name: 'MatMul 3-D by 2-D', input: ['N', 3, 4], inits: { b: w(4, 2) }, nodes: [one('MatMul', {}, ['b'])] },
  { name: 'MatMul by vector', input: ['N', 4], inits: { b: w(4) }, nodes: [one('MatMul', {}, ['b'])] },
  {
    name: 'broadcast arithmetic',
    input: ['N', 3, 4, 4],
    inits: { c: w(3, 1, 1), r: w(4), s: w(1, 1, 4, 1), t: w(3, 4, 4) },
    nodes: [
      node('Add', 'add', ['x', 'c'], ['a']),
      node('Sub', 'sub', ['a', 'r'], ['b']),
      node('Mul', 'mul', ['s', 'b'], ['m']),
      node('Div', 'div', ['m', 't'], ['y']),
    ],
  },
  {
    name: 'elementwise activations',
    input: ['N', 6],
    nodes: [
      node('Relu', 'relu', ['x'], ['a1']),
      node('LeakyRelu', 'lrelu', ['a1'], ['a2'], { alpha: float(0.1) }),
      node('Sigmoid', 'sig', ['a2'], ['a3']),
      node('Tanh', 'tanh', ['a3'], ['a4']),
      node('Softplus', 'sp', ['a4'], ['a5']),
      node('Elu', 'elu', ['a5'], ['a6']),
      node('Identity', 'id', ['a6'], ['a7']),
      node('Dropout', 'drop', ['a7'], ['a8', 'mask']),
      node('Softmax', 'sm', ['a8'], ['a9'], { axis: int(-1) }),
      node('LogSoftmax', 'lsm', ['a9'], ['y'], { axis: int(1) }),
    ],
  },
  { name: 'BatchNormalization', input: ['N', 3, 4], inits: { s: w(3), b: w(3), m: w(3), v: { dtype: 'float32', shape: [3], data: Float32Array.of(1, 2, 3) } }, nodes: [one('BatchNormalization', { epsilon: float(1e-5) }, ['s', 'b', 'm', 'v'])] },
  { name: 'Flatten axis 1', input: ['N', 2, 3, 4], nodes: [one('Flatten')] },
  { name: 'Flatten axis 2', unknownOk: true, input: ['N', 2, 3, 4], nodes: [one('Flatten', { axis: int(2) })] },
  { name: 'Flatten axis -1', unknownOk: true, input: ['N', 2, 3, 4], nodes: [one('Flatten', { axis: int(-1) })] },
  { name: 'Reshape [0,-1]', input: ['N', 2, 3, 4], inits: { s: int64s([0, -1]) }, nodes: [one('Reshape', {}, ['s'])] },
  { name: 'Reshape [-1,4]', unknownOk: true, input: ['N', 2, 3, 4], inits: { s: int64s([-1, 4]) }, nodes: [one('Reshape', {}, ['s'])] },
  { name: 'Reshape [-1,6,4]', input: ['N', 2, 3, 4], inits: { s: int64s([-1, 6, 4]) }, nodes: [one('Reshape', {}, ['s'])] },
  { name: 'Reshape [0,0,2,-1]', input: ['N', 2, 3, 4], inits: { s: int64s([0, 0, 2, -1]) }, nodes: [one('Reshape', {}, ['s'])] },
  { name: 'Transpose perm', input: ['N', 2, 3, 4], nodes: [one('Transpose', { perm: ints([0, 3, 1, 2]) })] },
  { name: 'Transpose default', input: ['N', 2, 3], nodes: [one('Transpose')] },
  { name: 'Squeeze/Unsqueeze opset 13 (axes input)', input: ['N', 1, 3, 1], inits: { a: int64s([1, -1]), u: int64s([0, -1]) }, nodes: [node('Squeeze', 'sq', ['x', 'a'], ['s']), node('Unsqueeze', 'un', ['s', 'u'], ['y'])] },
  { name: 'Squeeze without axes', input: ['N', 1, 3, 1], nodes: [one('Squeeze')] },
  {
    name: 'Squeeze/Unsqueeze opset 11 (axes attribute)',
    opset: 11,
    input: ['N', 1, 3, 1],
    nodes: [node('Squeeze', 'sq', ['x'], ['s'], { axes: ints([3]) }), node('Unsqueeze', 'un', ['s'], ['y'], { axes: ints([1, 4]) })],
  },
  { name: 'Concat', input: ['N', 2, 3], nodes: [node('Relu', 'r', ['x'], ['a']), node('Concat', 'c1', ['x', 'a', 'x'], ['b'], { axis: int(1) }), node('Concat', 'c2', ['b', 'b'], ['y'], { axis: int(-1) })] },
  { name: 'Pad input form', input: ['N', 2, 4, 4], inits: { p: int64s([0, 0, 1, 2, 0, 0, 3, -1]), v: { dtype: 'float32', shape: [], data: Float32Array.of(0.5) } }, nodes: [one('Pad', { mode: str('constant') }, ['p', 'v'])] },
  { name: 'Pad reflect opset 11', opset: 11, input: ['N', 2, 5], inits: { p: int64s([0, 0, 2, 0, 0, 1]) }, nodes: [one('Pad', { mode: str('reflect') }, ['p'])] },
  { name: 'Pad with axes (opset 18)', opset: 18, input: ['N', 2, 4, 4], inits: { p: int64s([1, 2, 0, 3]), a: int64s([2, -1]) }, nodes: [node('Pad', 'pad', ['x', 'p', '', 'a'], ['y'])] },
  { name: 'Pad attribute form (opset 10)', opset: 10, input: ['N', 2, 3], nodes: [one('Pad', { pads: ints([0, 1, 2, 0, 0, 1]) })] },
];

describe('inferShapes agrees with onnxruntime', () => {
  for (const c of cases) {
    it(c.name, async () => {
      await expectMatchesOnnxruntime(c);
    });
  }
});

describe('inferShapes', () => {
  it('keeps the batch symbolic', async () => {
    const g = await expectMatchesOnnxruntime(cases.find((c) => c.name === 'Reshape [-1,4]')!);
    expect(g.values.get('x')!.shape).toEqual(['N', 2, 3, 4]);
    // [-1, 4] from [N,2,3,4] is [6N, 4]: not the batch, so unknown rather than 'N'.
    expect(g.values.get('y')!.shape).toEqual([UNKNOWN_DIM, 4]);
    const h = await expectMatchesOnnxruntime(cases.find((c) => c.name === 'Reshape [0,-1]')!);
    expect(h.values.get('y')!.shape).toEqual(['N', 24]);
  });

  it('fills graph outputs from the inferred values', () => {
    const g = graphOf(cases[0]);
    inferShapes(g);
    expect(g.outputs[0]).toEqual({ name: 'y', dtype: 'float32', shape: ['N', 6, 4, 7] });
  });

  it('leaves outputs of operators it does not know out of values', () => {
    const g = graphOf({ name: 'unknown', input: ['N', 2], nodes: [node('Custom', 'c', ['x'], ['a']), node('Relu', 'r', ['a'], ['y'])] });
    inferShapes(g);
    expect(g.values.has('a')).toBe(false);
    expect(g.values.has('y')).toBe(false);
    expect(g.values.get('x')!.shape).toEqual(['N', 2]);
  });

  it('refuses shapes that cannot broadcast', () => {
    const g = graphOf({ name: 'bad', input: ['N', 3], inits: { c: w(4) }, nodes: [node('Add', 'add', ['x', 'c'], ['y'])] });
    expect(() => inferShapes(g)).toThrow(/Add node 'add'.*do not broadcast/);
  });
});
