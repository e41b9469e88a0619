import { afterAll, describe, expect, it } from 'vitest';
import { compileExplanation, disposeSessions, float32, type IrGraph, type IrNode, type Tensor } from '@blameboard/core';
import { tfGradient } from '@blameboard/tfjs';
import { oneHot } from '../../compiled.js';
import { compiledRun, graphOf, int, ints, node, randomTensor } from '@blameboard/testing/graphs';
import { gradientRules } from './index.js';

afterAll(() => disposeSessions());

/**
 * Conv → ReLU → MaxPool → Flatten → Gemm, [N,1,6,6] → [N,3]. Channel 0 has a positive bias and
 * channel 1 a negative one, so on a blank (all-zero) patch every window of channel 0 holds four
 * equal positive values (a tie only the first maximum may win) and channel 1 is all zeros.
 */
function reluPoolNet(pool: IrNode['attributes'], extra: IrNode[] = [], pooled = 'p'): IrGraph {
  const w = randomTensor([2, 1, 3, 3], 5, 0.5);
  const flatWidth = pool.strides ? 2 * 3 * 3 : 2 * 4 * 4; // 6×6 conv output (pads 1), pooled 2×2/2 or 3×3/1
  return graphOf(
    [
      node('Conv', ['x', 'w', 'bias'], ['c'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }),
      node('Relu', ['c'], ['r']),
      node('MaxPool', ['r'], ['p'], pool),
      ...extra,
      node('Flatten', [pooled], ['f']),
      node('Gemm', ['f', 'wd', 'bd'], ['y'], { transB: int(1) }),
    ],
    { w, bias: float32([2], [0.3, -0.2]), wd: randomTensor([3, flatWidth], 6, 0.5), bd: randomTensor([3], 7, 0.1) },
    ['N', 1, 6, 6],
  );
}

/** Two samples: random, and one blank except a single bright pixel. */
function inputs(): Tensor {
  const x = randomTensor([2, 1, 6, 6], 8);
  const d = x.data as Float32Array;
  d.fill(0, 36);
  d[36 + 14] = 1;
  return x;
}

async function expectAutodiff(g: IrGraph) {
  const x = inputs();
  const targets = Int32Array.of(0, 2);
  const { attribution } = await compiledRun(g, gradientRules(), x, oneHot(targets, 3));
  const ref = (await tfGradient(g, x, targets)).data as Float32Array;
  const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  expect(scale).toBeGreaterThan(0);
  (attribution.data as Float32Array).forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThanOrEqual(1e-5 * scale));
}

describe('ReLU → MaxPool differentiated as a pair', () => {
  it('equals tf.grad on 2×2 pools with tied positive maxima and all-zero windows', async () => {
    await expectAutodiff(reluPoolNet({ kernel_shape: ints([2, 2]), strides: ints([2, 2]) }));
  });

  it('equals tf.grad on overlapping 3×3 pools', async () => {
    await expectAutodiff(reluPoolNet({ kernel_shape: ints([3, 3]) }));
  });

  it('still masks the ReLU when its output has another consumer', async () => {
    // p2 = MaxPool(r) + MaxPool(r): r's signal is a sum, which the pool's own mask does not cover.
    const g = reluPoolNet({ kernel_shape: ints([2, 2]), strides: ints([2, 2]) }, [
      node('AveragePool', ['r'], ['a'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
      node('Add', ['p', 'a'], ['s']),
    ], 's');
    await expectAutodiff(g);
  });

  it('masks at the pooled size and leaves the full-size ReLU output unread by the backward pass', () => {
    const g = reluPoolNet({ kernel_shape: ints([2, 2]), strides: ints([2, 2]) });
    const compiled = compileExplanation(g, gradientRules(), { start: 'seed-input' }).graph;
    const backward = compiled.nodes.slice(g.nodes.length);
    expect(backward.filter((n) => n.opType === 'Greater').map((n) => n.inputs[0])).toEqual(['p']);
    // The forward Conv's pre-activation stays private to it, so onnxruntime can fuse Conv+ReLU.
    expect(backward.some((n) => n.inputs.includes('c'))).toBe(false);
  });
});
