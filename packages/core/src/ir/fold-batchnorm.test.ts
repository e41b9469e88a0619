import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng.js';
import { float32, type Tensor } from '../tensor.js';
import { writeOnnx } from '../onnx/write.js';
import { OnnxSession } from '../runtime/session.js';
import { foldBatchNorm } from './fold-batchnorm.js';
import { inferShapes } from './shape-inference.js';
import type { Attribute, IrGraph, IrNode } from './types.js';

const rng = new Rng(7);
const randn = (shape: number[], scale = 1, offset = 0): Tensor =>
  float32(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => offset + scale * rng.normal()));
const positive = (shape: number[]): Tensor =>
  float32(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.5 + rng.next()));

function node(opType: string, inputs: string[], outputs: string[], attributes: Record<string, Attribute> = {}): IrNode {
  return { name: `${opType}_${outputs[0]}`, opType, domain: '', inputs, outputs, attributes };
}

const ints = (value: number[]): Attribute => ({ type: 'ints', value });
const int = (value: number): Attribute => ({ type: 'int', value });

/** BN parameters with non-trivial scale, shift, mean and variance; returns the node's inputs. */
function bnParams(inits: Map<string, Tensor>, prefix: string, c: number): string[] {
  const names = ['scale', 'bias', 'mean', 'var'].map((s) => `${prefix}_${s}`);
  inits.set(names[0], randn([c], 0.5, 1));
  inits.set(names[1], randn([c], 0.3));
  inits.set(names[2], randn([c], 0.4));
  inits.set(names[3], positive([c]));
  return names;
}

function graphOf(nodes: IrNode[], inits: Map<string, Tensor>, inputShape: (number | string)[], output: string): IrGraph {
  const g: IrGraph = {
    name: 'bn',
    irVersion: 8,
    opsetVersion: 13,
    producerName: 'test',
    inputs: [{ name: 'x', dtype: 'float32', shape: inputShape }],
    outputs: [{ name: output, dtype: 'float32', shape: [] }],
    initializers: inits,
    nodes,
    values: new Map(),
  };
  inferShapes(g);
  return g;
}

/** Conv(+bias)→BN→Relu→Conv(no bias)→BN→ConvTranspose→BN→Flatten→Gemm(transB)→BN→MatMul→BN. */
function cnnWithBatchNorms(): IrGraph {
  const inits = new Map<string, Tensor>();
  inits.set('w1', randn([4, 3, 3, 3], 0.4));
  inits.set('b1', randn([4], 0.2));
  inits.set('w2', randn([4, 2, 3, 3], 0.4)); // group 2
  inits.set('wt', randn([4, 3, 2, 2], 0.4)); // ConvTranspose [Cin, Cout/g, k, k]
  inits.set('bt', randn([3], 0.2));
  inits.set('w3', randn([5, 3 * 8 * 8], 0.08)); // Gemm transB=1: [M, K]
  inits.set('b3', randn([5], 0.1));
  inits.set('w4', randn([5, 4], 0.5));
  const nodes = [
    node('Conv', ['x', 'w1', 'b1'], ['c1'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }),
    node('BatchNormalization', ['c1', ...bnParams(inits, 'bn1', 4)], ['n1'], { epsilon: { type: 'float', value: 1e-3 } }),
    node('Relu', ['n1'], ['r1']),
    node('Conv', ['r1', 'w2'], ['c2'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), group: int(2) }),
    node('BatchNormalization', ['c2', ...bnParams(inits, 'bn2', 4)], ['n2']),
    node('ConvTranspose', ['n2', 'wt', 'bt'], ['t3'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
    node('BatchNormalization', ['t3', ...bnParams(inits, 'bnt', 3)], ['nt']),
    node('Flatten', ['nt'], ['f']),
    node('Gemm', ['f', 'w3', 'b3'], ['g3'], { transB: int(1), alpha: { type: 'float', value: 0.5 }, beta: { type: 'float', value: 2 } }),
    node('BatchNormalization', ['g3', ...bnParams(inits, 'bn3', 5)], ['n3']),
    node('MatMul', ['n3', 'w4'], ['m4']),
    node('BatchNormalization', ['m4', ...bnParams(inits, 'bn4', 4)], ['y']),
  ];
  return graphOf(nodes, inits, ['N', 3, 10, 10], 'y');
}

const sessions: OnnxSession[] = [];
afterAll(async () => {
  for (const s of sessions) await s.dispose();
});

async function run(g: IrGraph, x: Tensor): Promise<Tensor> {
  const s = await OnnxSession.create(writeOnnx(g), { intraOpNumThreads: 1 });
  sessions.push(s);
  const out = await s.run({ x });
  return out[g.outputs[0].name];
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(Number(a.data[i]) - Number(b.data[i])));
  return m;
}

describe('foldBatchNorm', () => {
  it('folds every BN after Conv, grouped Conv, ConvTranspose, Gemm and 2-D MatMul, same outputs on onnxruntime', async () => {
    const g = cnnWithBatchNorms();
    const folded = foldBatchNorm(g);
    expect(folded.nodes.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'Conv', 'ConvTranspose', 'Flatten', 'Gemm', 'Gemm']);
    expect(g.nodes.filter((n) => n.opType === 'BatchNormalization')).toHaveLength(5); // input untouched
    for (const name of folded.initializers.keys()) expect(name.startsWith('bn')).toBe(false); // BN params dropped

    const x = randn([3, 3, 10, 10]);
    const [yOriginal, yFolded] = [await run(g, x), await run(folded, x)];
    expect(yFolded.shape).toEqual(yOriginal.shape);
    const scale = Math.max(...Array.from(yOriginal.data as Float32Array, (v) => Math.abs(v)));
    expect(scale).toBeGreaterThan(0.1); // the comparison is not between zeros
    expect(maxAbsDiff(yOriginal, yFolded)).toBeLessThan(1e-5 * Math.max(1, scale));
  });

  it("zennit-0.5.1 merge: each folded BatchNorm's output also divided by √(1 + eps), as Zennit 0.5.1's merged BatchNorm computes", async () => {
    // Large eps so that the leftover factor (0.95, 0.91) is far above float32 noise.
    const g = cnnWithBatchNorms();
    const epsOf = new Map<string, number>();
    const nodes = g.nodes.map((n, i) => {
      if (n.opType !== 'BatchNormalization') return n;
      epsOf.set(n.name, i % 2 === 0 ? 0.1 : 0.2);
      return { ...n, attributes: { epsilon: { type: 'float' as const, value: epsOf.get(n.name)! } } };
    });
    const withEps = graphOf(nodes, new Map(g.initializers), ['N', 3, 10, 10], 'y');
    // The same function spelt with BatchNorms alone: var′ = (var + eps)(1 + eps) − eps and β′ = β/√(1 + eps)
    // make BN′(x) = BN(x)/√(1 + eps), computed by onnxruntime's own BatchNormalization.
    const emulated = new Map(withEps.initializers);
    for (const n of withEps.nodes) {
      if (n.opType !== 'BatchNormalization') continue;
      const eps = epsOf.get(n.name)!;
      const [, , beta, , variance] = n.inputs;
      emulated.set(beta, float32(emulated.get(beta)!.shape, Array.from(emulated.get(beta)!.data as Float32Array, (b) => b / Math.sqrt(1 + eps))));
      emulated.set(variance, float32(emulated.get(variance)!.shape, Array.from(emulated.get(variance)!.data as Float32Array, (v) => (v + eps) * (1 + eps) - eps)));
    }
    const zennit = graphOf(withEps.nodes, emulated, ['N', 3, 10, 10], 'y');

    const merged = foldBatchNorm(withEps, 'zennit-0.5.1');
    expect(merged.nodes.some((n) => n.opType === 'BatchNormalization')).toBe(false);
    const x = randn([3, 3, 10, 10]);
    const [yZennit, yMerged, yExact] = [await run(zennit, x), await run(merged, x), await run(foldBatchNorm(withEps), x)];
    const scale = Math.max(...Array.from(yZennit.data as Float32Array, (v) => Math.abs(v)));
    expect(scale).toBeGreaterThan(0.1);
    expect(maxAbsDiff(yMerged, yZennit)).toBeLessThan(1e-5 * Math.max(1, scale));
    expect(maxAbsDiff(yExact, yZennit)).toBeGreaterThan(1e-2 * scale); // not the model's function
  });

  it('leaves a BN alone when the layer output also feeds another node, or in training mode', async () => {
    const inits = new Map<string, Tensor>();
    inits.set('w', randn([2, 1, 3, 3]));
    const nodes = [
      node('Conv', ['x', 'w'], ['c'], { kernel_shape: ints([3, 3]) }),
      node('BatchNormalization', ['c', ...bnParams(inits, 'bn', 2)], ['n']),
      node('Add', ['n', 'c'], ['y']),
    ];
    const g = graphOf(nodes, inits, ['N', 1, 5, 5], 'y');
    expect(foldBatchNorm(g).nodes.map((n) => n.opType)).toEqual(['Conv', 'BatchNormalization', 'Add']);

    const inits2 = new Map<string, Tensor>();
    inits2.set('w', randn([2, 1, 3, 3]));
    const training = [
      node('Conv', ['x', 'w'], ['c'], { kernel_shape: ints([3, 3]) }),
      node('BatchNormalization', ['c', ...bnParams(inits2, 'bn', 2)], ['y'], { training_mode: int(1) }),
    ];
    const g2 = graphOf(training, inits2, ['N', 1, 5, 5], 'y');
    expect(foldBatchNorm(g2).nodes.map((n) => n.opType)).toEqual(['Conv', 'BatchNormalization']);
  });

  it('keeps a weight shared with another layer intact', async () => {
    const inits = new Map<string, Tensor>();
    inits.set('w', randn([3, 3], 0.5));
    const nodes = [
      node('MatMul', ['x', 'w'], ['a']),
      node('BatchNormalization', ['a', ...bnParams(inits, 'bn', 3)], ['n']),
      node('MatMul', ['n', 'w'], ['y']),
    ];
    const g = graphOf(nodes, inits, ['N', 3], 'y');
    const folded = foldBatchNorm(g);
    expect(folded.nodes.map((n) => n.opType)).toEqual(['Gemm', 'MatMul']);
    expect(folded.initializers.get('w')).toBe(g.initializers.get('w'));
    const x = randn([4, 3]);
    expect(maxAbsDiff(await run(g, x), await run(folded, x))).toBeLessThan(1e-5);
  });
});
