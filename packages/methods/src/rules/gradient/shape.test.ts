import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, type IrNode, type Tensor } from '@blameboard/core';
import { adjointCheck, compiledRun, graphOf, int, int64, ints, node, randomTensor, str } from '@blameboard/testing/graphs';
import { gradientRules } from './index.js';

afterAll(() => disposeSessions());

const rules = gradientRules();

async function expectAdjoint(nodes: IrNode[], init: Record<string, Tensor>, shape: (number | string)[], opset = 13) {
  const { forward, backward } = await adjointCheck(graphOf(nodes, init, shape, opset), rules, 2, 21);
  expect(Math.abs(backward - forward)).toBeLessThan(1e-5 * Math.abs(forward) + 1e-5);
}

describe('BatchNormalization gradient (inference)', () => {
  it('scales by γ/√(σ²+ε) per channel', async () => {
    const variance = randomTensor([3], 4);
    (variance.data as Float32Array).forEach((v, i, a) => (a[i] = Math.abs(v) + 0.1));
    await expectAdjoint(
      [node('BatchNormalization', ['x', 'gamma', 'beta', 'mean', 'var'], ['y'], { epsilon: { type: 'float', value: 1e-3 } })],
      { gamma: randomTensor([3], 1), beta: randomTensor([3], 2), mean: randomTensor([3], 3), var: variance },
      ['N', 3, 4, 4],
    );
  });
});

describe('shape-only ops pass the signal back in place', () => {
  it('Flatten → Reshape → Unsqueeze → Squeeze', async () => {
    await expectAdjoint(
      [
        node('Flatten', ['x'], ['f']),
        node('Reshape', ['f', 's'], ['r']),
        node('Unsqueeze', ['r', 'axes'], ['u']),
        node('Squeeze', ['u', 'axes'], ['q']),
        node('Mul', ['q', 'w'], ['y']),
      ],
      { s: int64([-1, 6, 2]), axes: int64([1]), w: randomTensor([6, 2], 5) },
      ['N', 3, 2, 2],
    );
  });
  it('Transpose (inverse permutation)', async () => {
    await expectAdjoint([node('Transpose', ['x'], ['t'], { perm: ints([0, 2, 3, 1]) }), node('Mul', ['t', 'w'], ['y'])], { w: randomTensor([4, 5, 3], 6) }, ['N', 3, 4, 5]);
  });
  it('Identity and Dropout', async () => {
    await expectAdjoint([node('Identity', ['x'], ['i']), node('Dropout', ['i'], ['d']), node('Mul', ['d', 'w'], ['y'])], { w: randomTensor([4], 6) }, ['N', 4]);
  });
  it('opset-11 Squeeze/Unsqueeze with axes attributes', async () => {
    await expectAdjoint(
      [node('Unsqueeze', ['x'], ['u'], { axes: ints([2]) }), node('Mul', ['u', 'w'], ['m']), node('Squeeze', ['m'], ['y'], { axes: ints([2]) })],
      { w: randomTensor([3, 1], 6) },
      ['N', 3],
      11,
    );
  });
});

describe('Concat gradient', () => {
  it('slices each input’s slab back (x used twice)', async () => {
    await expectAdjoint(
      [node('Mul', ['x', 'w'], ['m']), node('Concat', ['x', 'm', 'x'], ['c'], { axis: int(-1) }), node('Mul', ['c', 'v'], ['y'])],
      { w: randomTensor([3], 7), v: randomTensor([9], 8) },
      ['N', 2, 3],
    );
  });
});

describe('Pad gradient', () => {
  it('crops positive pads', async () => {
    await expectAdjoint([node('Pad', ['x', 'pads'], ['y'])], { pads: int64([0, 0, 1, 2, 0, 0, 3, 1]) }, ['N', 2, 3, 3]);
  });
  it('re-grows negative pads (crops)', async () => {
    await expectAdjoint([node('Pad', ['x', 'pads'], ['y'])], { pads: int64([0, 0, -1, 2, 0, 0, 1, -2]) }, ['N', 1, 4, 5]);
  });
  it('handles the axes input of opset 18', async () => {
    await expectAdjoint([node('Pad', ['x', 'pads', '', 'axes'], ['y'])], { pads: int64([2, 1]), axes: int64([-1]) }, ['N', 3, 4], 18);
  });
  it('refuses reflect padding by name', () => {
    const g = graphOf([node('Pad', ['x', 'pads'], ['y'], { mode: str('reflect') })], { pads: int64([0, 1, 0, 1]) }, ['N', 4]);
    return expect(compiledRun(g, rules, float32([1, 4]), float32([1, 6]))).rejects.toThrow(/reflect-mode padding.*Pad \(node 'Pad_y'\)/);
  });
});
