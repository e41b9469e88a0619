import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions } from '@blameboard/core';
import { explain } from '../registry.js';
import { graphOf, int, node, randomTensor } from '@blameboard/testing/graphs';
import { modelFrom, smallCnn } from '@blameboard/testing/method-models';

afterAll(() => disposeSessions());

const values = (t: { data: unknown }) => Array.from(t.data as Float32Array);

describe('smoothgrad', () => {
  it('with noise 0 is the gradient (mean), its square (squared), zero (var), gradient × input (multiplyByInput)', async () => {
    const model = await modelFrom(smallCnn(7), 'smoothgrad-0');
    const x = randomTensor([2, 2, 8, 8], 8);
    const targets = Int32Array.of(2, 0);
    const g = values((await explain({ model, inputs: x, targets, method: 'gradient' })).attributions);
    const run = async (params: Record<string, unknown>) => values((await explain({ model, inputs: x, targets, method: 'smoothgrad', params: { noise: 0, samples: 3, ...params } })).attributions);
    (await run({})).forEach((v, i) => expect(v).toBeCloseTo(g[i], 6));
    (await run({ variant: 'squared' })).forEach((v, i) => expect(v).toBeCloseTo(g[i] * g[i], 6));
    (await run({ variant: 'var' })).forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-9));
    (await run({ multiplyByInput: true })).forEach((v, i) => expect(v).toBeCloseTo(g[i] * (x.data[i] as number), 6));
  });

  it('on a linear model: mean is the weight row, var is 0, mean × input averages the noisy inputs', async () => {
    const w = randomTensor([2, 6], 1);
    const model = await modelFrom(graphOf([node('Gemm', ['x', 'w'], ['y'], { transB: int(1) })], { w }, ['N', 6]), 'smoothgrad-linear');
    const x = randomTensor([1, 6], 2);
    const mean = values((await explain({ model, inputs: x, targets: Int32Array.of(1), method: 'smoothgrad', params: { noise: 0.5, samples: 4 } })).attributions);
    mean.forEach((v, j) => expect(v).toBeCloseTo(w.data[6 + j] as number, 6));
    const varGrad = values((await explain({ model, inputs: x, targets: Int32Array.of(1), method: 'smoothgrad', params: { noise: 0.5, variant: 'var' } })).attributions);
    varGrad.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-9));
  });

  it('is seeded: the same seed repeats, another seed differs, the batch size does not matter', async () => {
    const model = await modelFrom(smallCnn(7), 'smoothgrad-seed');
    const x = randomTensor([2, 2, 8, 8], 8);
    const targets = Int32Array.of(1, 1);
    const run = async (seed: number, batchSize?: number) =>
      values((await explain({ model, inputs: x, targets, method: 'smoothgrad', params: { seed, samples: 5 }, batchSize })).attributions);
    const a = await run(1);
    expect(await run(1, 3)).toEqual(a);
    expect(await run(2)).not.toEqual(a);
  });
});
