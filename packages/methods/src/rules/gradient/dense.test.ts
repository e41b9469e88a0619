import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, type IrNode, type Tensor } from '@blameboard/core';
import { adjointCheck, compiledRun, finiteDifference, flt, graphOf, int, node, randomTensor } from '@blameboard/testing/graphs';
import { gradientRules } from './index.js';

afterAll(() => disposeSessions());

const rules = gradientRules();

async function expectAdjoint(nodes: IrNode[], init: Record<string, Tensor>, shape: (number | string)[]) {
  const { forward, backward } = await adjointCheck(graphOf(nodes, init, shape), rules, 3, 5);
  expect(Math.abs(backward - forward)).toBeLessThan(1e-5 * Math.abs(forward) + 1e-4);
}

describe('Gemm gradient', () => {
  it('handles transB (PyTorch Linear), alpha and a bias', async () => {
    await expectAdjoint([node('Gemm', ['x', 'w', 'c'], ['y'], { transB: int(1), alpha: flt(0.5) })], { w: randomTensor([4, 6], 1), c: randomTensor([4], 2) }, ['N', 6]);
  });
  it('handles plain weights', async () => {
    await expectAdjoint([node('Gemm', ['x', 'w'], ['y'])], { w: randomTensor([6, 4], 1) }, ['N', 6]);
  });
  it('handles transA', async () => {
    // x is [6, N]ᵀ-shaped: transA reads it as [N, 6]... with a fixed leading 6.
    await expectAdjoint([node('Gemm', ['x', 'w'], ['y'], { transA: int(1), transB: int(1) })], { w: randomTensor([4, 3], 1) }, [3, 'N']);
  });
  it('differentiates a weight computed from x (x·xᵀ-like products)', async () => {
    // y = Gemm(x, Relu(x), transB) is quadratic where Relu is linear: central differences are exact.
    const g = graphOf([node('Gemm', ['x', 'x'], ['y'], { transB: int(1) })], {}, [3, 4]);
    const x = randomTensor([3, 4], 9);
    const s = randomTensor([3, 3], 10);
    const { attribution } = await compiledRun(g, rules, x, s);
    const fd = await finiteDifference(g, x, s, 1e-2);
    Array.from(attribution.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(fd[i], 2));
  });
});

describe('MatMul gradient', () => {
  it('handles a 2-D weight', async () => {
    await expectAdjoint([node('MatMul', ['x', 'w'], ['y'])], { w: randomTensor([5, 3], 1) }, ['N', 5]);
  });
  it('broadcasts a 2-D weight over batch dims', async () => {
    await expectAdjoint([node('MatMul', ['x', 'w'], ['y'])], { w: randomTensor([5, 3], 1) }, ['N', 2, 4, 5]);
  });
  it('sums a broadcast input back over the batch dims of a 3-D weight', async () => {
    await expectAdjoint([node('MatMul', ['x', 'w'], ['y'])], { w: randomTensor([2, 5, 3], 1) }, ['N', 1, 4, 5]);
  });
  it('handles a 1-D weight', async () => {
    await expectAdjoint([node('MatMul', ['x', 'w'], ['y'])], { w: randomTensor([5], 1) }, ['N', 5]);
  });
});
