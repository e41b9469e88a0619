import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, type IrGraph, type IrNode, type Tensor } from '@blameboard/core';
import { tfGradient } from '@blameboard/tfjs';
import { compiledRun, flt, graphOf, int, int64, ints, node, randomTensor, str } from '@blameboard/testing/graphs';
import { gradientRules } from './index.js';

afterAll(() => disposeSessions());

const rules = gradientRules();

function oneHot(targets: number[], classes: number): Tensor {
  const t = float32([targets.length, classes]);
  targets.forEach((c, i) => ((t.data as Float32Array)[i * classes + c] = 1));
  return t;
}

/**
 * The compiled gradient of f_t against tfjs autodiff (`tf.grad` over the tfjs executor, which
 * shares no code with the rules): max |compiled − tf| ≤ 1e-5 · max |tf|.
 */
async function expectTfGradient(graph: IrGraph, x: Tensor) {
  const classes = graph.outputs[0].shape[1] as number;
  const targets = Array.from({ length: x.shape[0] }, (_, i) => (i * 3) % classes);
  const { attribution } = await compiledRun(graph, rules, x, oneHot(targets, classes));
  const reference = await tfGradient(graph, x, Int32Array.from(targets));
  const got = attribution.data as Float32Array;
  const want = reference.data as Float32Array;
  const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  expect(scale).toBeGreaterThan(1e-3); // not comparing zeros
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  expect(worst).toBeLessThanOrEqual(1e-5 * scale);
}

/** A graph at `opset` whose nodes end in an [N, C] output named 'y'. */
function graph(nodes: IrNode[], init: Record<string, Tensor>, shape: (number | string)[], opset = 18): IrGraph {
  return graphOf(nodes, init, shape, opset);
}

const scalar = (v: number): Tensor => ({ dtype: 'float32', shape: [], data: Float32Array.of(v) });

describe('compiled gradient equals tfjs autodiff on the operators of the deployed families', () => {
  it('Clip (ReLU6 and general bounds), HardSigmoid, HardSwish (the opset-14 op)', async () => {
    const g = graph(
      [
        node('Clip', ['x', 'zero', 'six'], ['r6']),
        node('Clip', ['x', 'lo'], ['lower']),
        node('HardSigmoid', ['x'], ['hs'], { alpha: flt(0.3), beta: flt(0.4) }),
        node('HardSwish', ['x'], ['hw']),
        node('Sum', ['r6', 'lower', 'hs', 'hw'], ['s']),
        node('Gemm', ['s', 'w'], ['y']),
      ],
      { zero: scalar(0), six: scalar(6), lo: scalar(-0.5), w: randomTensor([10, 4], 2) },
      ['N', 10],
    );
    await expectTfGradient(g, randomTensor([3, 10], 1, 4));
  });

  it('Erf and GELU (exact and tanh forms, opset 20)', async () => {
    const g = graph(
      [
        node('Erf', ['x'], ['e']),
        node('Gelu', ['x'], ['ge']),
        node('Gelu', ['x'], ['gt'], { approximate: str('tanh') }),
        node('Sum', ['e', 'ge', 'gt'], ['s']),
        node('Gemm', ['s', 'w'], ['y']),
      ],
      { w: randomTensor([8, 3], 2) },
      ['N', 8],
      20,
    );
    await expectTfGradient(g, randomTensor([3, 8], 3, 2));
  });

  it("products and quotients of two activations: SiLU as x·σ(x), a squeeze-excitation gate, a quotient", async () => {
    const g = graph(
      [
        node('Conv', ['x', 'w1', 'b1'], ['c']),
        node('Sigmoid', ['c'], ['sg']),
        node('Mul', ['c', 'sg'], ['silu']),
        node('GlobalAveragePool', ['silu'], ['pool']),
        node('Conv', ['pool', 'w2'], ['fc']),
        node('HardSigmoid', ['fc'], ['gate'], { alpha: flt(1 / 6) }),
        node('Mul', ['gate', 'silu'], ['scaled']),
        node('Softplus', ['c'], ['sp']),
        node('Add', ['sp', 'one'], ['den']),
        node('Div', ['scaled', 'den'], ['q']),
        node('Flatten', ['q'], ['f']),
        node('Gemm', ['f', 'w3'], ['y']),
      ],
      { w1: randomTensor([4, 2, 3, 3], 4), b1: randomTensor([4], 5), w2: randomTensor([4, 4, 1, 1], 6), one: scalar(1), w3: randomTensor([4 * 4 * 4, 3], 7) },
      ['N', 2, 6, 6],
    );
    await expectTfGradient(g, randomTensor([2, 2, 6, 6], 8));
  });

  it('Slice (steps 1, 2 and −1), Split, ReduceMean, Cast', async () => {
    const g = graph(
      [
        node('Slice', ['x', 's0', 'e0', 'a0', 'st0'], ['sl']),
        node('Split', ['sl', 'sizes'], ['p', 'q'], { axis: int(1) }),
        node('ReduceMean', ['p', 'ax'], ['m'], { keepdims: int(0) }),
        node('Cast', ['q'], ['qc'], { to: int(1) }),
        node('Flatten', ['m'], ['mf']),
        node('Flatten', ['qc'], ['qf']),
        node('Concat', ['mf', 'qf'], ['cat'], { axis: int(1) }),
        node('Gemm', ['cat', 'w'], ['y']),
      ],
      { s0: int64([1, -1, 0]), e0: int64([7, -100, 4]), a0: int64([2, 3, 1]), st0: int64([2, -1, 1]), sizes: int64([1, 3]), ax: int64([3]), w: randomTensor([3 + 3 * 3 * 5, 4], 2) },
      ['N', 4, 7, 5],
    );
    await expectTfGradient(g, randomTensor([2, 4, 7, 5], 9));
  });

  it('Resize: nearest upsampling (asymmetric floor) and linear (align-corners)', async () => {
    // tfjs's ResizeBilinearGrad ignores halfPixelCenters (its forward does not): half-pixel
    // linear modes are checked in resize.test.ts against onnxruntime's own interpolation matrix.
    const g = graph(
      [
        node('Resize', ['x', '', 'up'], ['n'], { mode: str('nearest'), coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') }),
        node('Resize', ['x', '', '', 'sizes'], ['a'], { axes: ints([2, 3]), mode: str('linear'), coordinate_transformation_mode: str('align_corners') }),
        node('Flatten', ['n'], ['nf']),
        node('Flatten', ['a'], ['af']),
        node('Concat', ['nf', 'af'], ['cat'], { axis: int(1) }),
        node('Gemm', ['cat', 'w'], ['y']),
      ],
      { up: { dtype: 'float32', shape: [4], data: Float32Array.of(1, 1, 2, 2) }, sizes: int64([5, 7]), w: randomTensor([2 * 6 * 8 + 2 * 5 * 7, 3], 3) },
      ['N', 2, 3, 4],
    );
    await expectTfGradient(g, randomTensor([2, 2, 3, 4], 10));
  });

  it('Pad, Transpose, Squeeze/Unsqueeze and a MatMul of a Reshape, as tf2onnx writes a dense head', async () => {
    const g = graph(
      [
        node('Transpose', ['x'], ['nhwc'], { perm: ints([0, 2, 3, 1]) }),
        node('Pad', ['nhwc', 'pads'], ['padded']),
        node('ReduceMean', ['padded', 'hw'], ['gap'], { keepdims: int(1) }),
        node('Squeeze', ['gap', 'hw'], ['sq']),
        node('Unsqueeze', ['sq', 'one'], ['us']),
        node('Reshape', ['us', 'shape'], ['flat']),
        node('MatMul', ['flat', 'w'], ['mm']),
        node('Add', ['mm', 'b'], ['y']),
      ],
      { pads: int64([0, 1, 0, 0, 0, 0, 2, 0]), hw: int64([1, 2]), one: int64([1]), shape: int64([-1, 3]), w: randomTensor([3, 4], 4), b: randomTensor([4], 5) },
      ['N', 3, 4, 4],
    );
    await expectTfGradient(g, randomTensor([2, 3, 4, 4], 11));
  });
});

describe('Clip at its bounds', () => {
  it('passes no signal exactly at min or max (PyTorch relu6/hardtanh, like ReLU at 0)', async () => {
    const g = graphOf([node('Clip', ['x', 'lo', 'hi'], ['y'])], { lo: scalar(0), hi: scalar(6) }, ['N', 5]);
    const x = float32([1, 5], [-1, 0, 3, 6, 7]);
    const { attribution } = await compiledRun(g, rules, x, float32([1, 5], [1, 1, 1, 1, 1]));
    expect(Array.from(attribution.data as Float32Array)).toEqual([0, 0, 1, 0, 0]);
  });
});
