import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, Rng, type IrNode } from '@blameboard/core';
import { adjointCheck, compiledRun, finiteDifference, graphOf, int, ints, node, randomTensor } from '@blameboard/testing/graphs';
import { gradientRules } from './index.js';

afterAll(() => disposeSessions());

const rules = gradientRules();

/** Distinct, well separated values: no ties, and ±eps never changes an argmax. */
function separated(shape: number[], seed: number) {
  const n = shape.reduce((p, d) => p * d, 1);
  const order = new Rng(seed).shuffle(Array.from({ length: n }, (_, i) => i));
  return float32(shape, order.map((k) => k * 0.1 - n * 0.05));
}

describe('MaxPool gradient (indices + scatter-add)', () => {
  const cases: [string, IrNode['attributes']][] = [
    ['2×2 stride 2', { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }],
    ['overlapping 3×3 stride 1 (shared maxima add up)', { kernel_shape: ints([3, 3]) }],
    ['padded, ceil_mode', { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 0, 0]), ceil_mode: int(1) }],
    ['dilated', { kernel_shape: ints([2, 2]), dilations: ints([2, 2]) }],
  ];
  for (const [name, attributes] of cases) {
    it(`matches central differences: ${name}`, async () => {
      const g = graphOf([node('MaxPool', ['x'], ['y'], attributes)], {}, ['N', 2, 5, 6]);
      const x = separated([2, 2, 5, 6], 3);
      const s = randomTensor(g.outputs[0].shape.map((d) => (typeof d === 'number' ? d : 2)), 4);
      const { attribution } = await compiledRun(g, rules, x, s);
      const fd = await finiteDifference(g, x, s, 1e-2);
      Array.from(attribution.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(fd[i], 3));
    });
  }
});

describe('AveragePool gradient (ConvTranspose with a ones kernel)', () => {
  const cases: [string, IrNode['attributes']][] = [
    ['2×2 stride 2', { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }],
    ['3×3 stride 1', { kernel_shape: ints([3, 3]) }],
    ['padded, pads excluded from the count', { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }],
    ['padded, pads counted', { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 0, 1, 2]), count_include_pad: int(1) }],
    ['ceil_mode', { kernel_shape: ints([2, 2]), strides: ints([2, 2]), ceil_mode: int(1) }],
    ['ceil_mode, pads counted', { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), ceil_mode: int(1), count_include_pad: int(1) }],
    ['remainder rows never pooled', { kernel_shape: ints([2, 2]), strides: ints([3, 3]) }],
  ];
  for (const [name, attributes] of cases) {
    it(`satisfies the dot-product test: ${name}`, async () => {
      const { forward, backward } = await adjointCheck(graphOf([node('AveragePool', ['x'], ['y'], attributes)], {}, ['N', 3, 5, 6]), rules, 2, 9);
      expect(Math.abs(backward - forward)).toBeLessThan(1e-5 * Math.abs(forward) + 1e-5);
    });
  }
  it('satisfies the dot-product test: GlobalAveragePool', async () => {
    const { forward, backward } = await adjointCheck(graphOf([node('GlobalAveragePool', ['x'], ['y'])], {}, ['N', 3, 4, 5]), rules, 2, 9);
    expect(Math.abs(backward - forward)).toBeLessThan(1e-5 * Math.abs(forward) + 1e-5);
  });
  it('GlobalAveragePool over whole channel blocks (the depthwise spreading Conv) gives every element s · (1/count) exactly', async () => {
    const g = graphOf([node('GlobalAveragePool', ['x'], ['y'])], {}, ['N', 32, 7, 5]);
    const s = randomTensor([2, 32, 1, 1], 3);
    const { attribution } = await compiledRun(g, rules, randomTensor([2, 32, 7, 5], 2), s);
    const got = attribution.data as Float32Array;
    const share = Math.fround(1 / 35);
    const signal = s.data as Float32Array;
    for (let i = 0; i < got.length; i++) expect(got[i]).toBe(Math.fround(signal[Math.floor(i / 35)] * share));
  });
});

describe('GlobalMaxPool gradient', () => {
  it('sends each channel’s signal to its maximum', async () => {
    const g = graphOf([node('GlobalMaxPool', ['x'], ['y'])], {}, ['N', 2, 3, 3]);
    const x = separated([1, 2, 3, 3], 5);
    const s = float32([1, 2, 1, 1], [3, -2]);
    const { attribution } = await compiledRun(g, rules, x, s);
    const fd = await finiteDifference(g, x, s, 1e-2);
    Array.from(attribution.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(fd[i], 3));
    expect(Array.from(attribution.data as Float32Array).filter((v) => v !== 0).sort()).toEqual([-2, 3]);
  });
});
