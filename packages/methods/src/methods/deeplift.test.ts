import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, sizeOf, targetOutputs as targetLogits, type Tensor } from '@blameboard/core';
import { explain } from '../registry.js';
import { graphOf, int, ints, node, randomTensor } from '@blameboard/testing/graphs';
import { modelFrom, residualNet, smallCnn, smoothMlp } from '@blameboard/testing/method-models';

afterAll(() => disposeSessions());

function rowSums(t: Tensor): number[] {
  const per = sizeOf(t.shape.slice(1));
  return Array.from({ length: t.shape[0] }, (_, i) => {
    let s = 0;
    for (let j = 0; j < per; j++) s += t.data[i * per + j] as number;
    return s;
  });
}

describe('deeplift', () => {
  it('sums to the output difference f(x) − f(x′) (summation-to-delta) within 1e-4', async () => {
    for (const [graph, shape] of [
      [smallCnn(2), [3, 2, 8, 8]],
      [residualNet(3), [3, 1, 6, 6]],
      [smoothMlp(4), [3, 5]],
    ] as const) {
      const model = await modelFrom(graph, 'deeplift-delta');
      const x = randomTensor([...shape], 31);
      const targets = Int32Array.of(0, 1, 2);
      for (const baseline of ['zero', 0.3, 'uniform'] as const) {
        const { attributions } = await explain({ model, inputs: x, targets, method: 'deeplift', params: { baseline } });
        const ref = (await import('../baselines.js')).makeBaseline(baseline, x, { seed: 0 });
        const fx = await targetLogits(model, x, targets);
        const fb = await targetLogits(model, ref, targets);
        rowSums(attributions).forEach((s, i) => {
          const delta = fx[i] - fb[i];
          expect(Math.abs(s - delta)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(delta)));
        });
      }
    }
  });

  it('routes max-pool changes as Captum does: to the input’s argmax when y grows, the baseline’s when it shrinks', async () => {
    const g = graphOf([node('MaxPool', ['x'], ['p'], { kernel_shape: ints([2]), strides: ints([2]) }), node('Flatten', ['p'], ['y'])], {}, ['N', 1, 2]);
    const model = await modelFrom(g, 'deeplift-maxpool');
    // The baseline is the number 2 for both cases; x = [1, 3] grows the max (2 → 3), x = [1, 0] shrinks it (2 → 1).
    const x = float32([2, 1, 2], [1, 3, 1, 0]);
    const { attributions } = await explain({ model, inputs: x, targets: Int32Array.of(0, 0), method: 'deeplift', params: { baseline: 2 } });
    const a = Array.from(attributions.data as Float32Array);
    expect(a[0]).toBeCloseTo(0, 6);
    expect(a[1]).toBeCloseTo(1, 6);
    expect(a[2]).toBeCloseTo(-1, 6);
    expect(a[3]).toBeCloseTo(0, 6);
  });

  it('equals (x − x′) ⊙ gradient on a linear model', async () => {
    const w = randomTensor([3, 4], 5);
    const model = await modelFrom(graphOf([node('Gemm', ['x', 'w'], ['y'], { transB: int(1) })], { w }, ['N', 4]), 'deeplift-linear');
    const x = randomTensor([1, 4], 6);
    const { attributions } = await explain({ model, inputs: x, targets: Int32Array.of(2), method: 'deeplift', params: { baseline: -0.5 } });
    Array.from(attributions.data as Float32Array).forEach((v, j) => expect(v).toBeCloseTo(((x.data[j] as number) + 0.5) * (w.data[8 + j] as number), 5));
  });

  it('stays finite where Δz = 0 (the Rescale rule falls back to g′(z))', async () => {
    const model = await modelFrom(smallCnn(2), 'deeplift-same');
    // Only one pixel differs from the baseline: most units see Δz = 0 exactly.
    const x = float32([1, 2, 8, 8], new Float32Array(128).fill(0.3));
    (x.data as Float32Array)[27] = 1;
    const { attributions } = await explain({ model, inputs: x, targets: Int32Array.of(1), method: 'deeplift', params: { baseline: 0.3 } });
    const a = Array.from(attributions.data as Float32Array);
    expect(a.every(Number.isFinite)).toBe(true);
    expect(a.filter((v, i) => i !== 27 && v !== 0)).toEqual([]);
    const fx = await targetLogits(model, x, Int32Array.of(1));
    const fb = await targetLogits(model, float32([1, 2, 8, 8], new Float32Array(128).fill(0.3)), Int32Array.of(1));
    expect(Math.abs(fx[0] - fb[0])).toBeGreaterThan(1e-3);
    expect(a[27]).toBeCloseTo(fx[0] - fb[0], 5);
  });
});

describe('deeplift on the deployed families', () => {
  const scalar = (v: number): Tensor => ({ dtype: 'float32', shape: [], data: Float32Array.of(v) });

  /** Summation-to-delta of every row for the given graph, baselines and targets. */
  async function expectSummationToDelta(graph: Parameters<typeof modelFrom>[0], x: Tensor, targets: Int32Array, name: string) {
    const model = await modelFrom(graph, name);
    // A constant baseline gives constant feature maps (ties in every pool); seeded noise does not.
    for (const baseline of ['zero', 'uniform'] as const) {
      const { attributions } = await explain({ model, inputs: x, targets, method: 'deeplift', params: { baseline } });
      const ref = (await import('../baselines.js')).makeBaseline(baseline, x, { seed: 0 });
      const fx = await targetLogits(model, x, targets);
      const fb = await targetLogits(model, ref, targets);
      rowSums(attributions).forEach((s, i) => {
        const delta = fx[i] - fb[i];
        expect(Math.abs(delta), `${name} row ${i}`).toBeGreaterThan(1e-3);
        expect(Math.abs(s - delta), `${name} row ${i}`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(delta)));
      });
    }
  }

  it('sums to delta through SiLU and HardSwish units, a squeeze-excitation gate, a quotient, ReLU6 and HardSigmoid', async () => {
    const g = graphOf(
      [
        node('Conv', ['x', 'w1', 'b1'], ['c'], { pads: ints([1, 1, 1, 1]) }),
        node('Sigmoid', ['c'], ['sg']),
        node('Mul', ['c', 'sg'], ['silu']),
        node('Conv', ['silu', 'w2'], ['d'], { group: int(4), pads: ints([1, 1, 1, 1]) }),
        node('HardSigmoid', ['d'], ['hs'], { alpha: { type: 'float', value: 1 / 6 } }),
        node('Mul', ['d', 'hs'], ['hswish']),
        node('GlobalAveragePool', ['hswish'], ['p']),
        node('Conv', ['p', 'wa'], ['fa']),
        node('Clip', ['fa', 'zero', 'six'], ['r6']),
        node('Conv', ['r6', 'wb'], ['fb']),
        node('HardSigmoid', ['fb'], ['gate'], { alpha: { type: 'float', value: 1 / 6 } }),
        node('Mul', ['gate', 'hswish'], ['se']),
        node('Softplus', ['c'], ['sp']),
        node('Add', ['sp', 'one'], ['den']),
        node('Div', ['se', 'den'], ['q']),
        node('Add', ['q', 'c'], ['res']),
        node('Flatten', ['res'], ['f']),
        node('Gemm', ['f', 'wd'], ['y']),
      ],
      {
        w1: randomTensor([4, 2, 3, 3], 41, 0.6), b1: randomTensor([4], 42, 0.2), w2: randomTensor([4, 1, 3, 3], 43, 0.6),
        wa: randomTensor([2, 4, 1, 1], 44), wb: randomTensor([4, 2, 1, 1], 45), zero: scalar(0), six: scalar(6), one: scalar(1),
        wd: randomTensor([4 * 5 * 5, 3], 46, 0.3),
      },
      ['N', 2, 5, 5],
      13,
    );
    await expectSummationToDelta(g, randomTensor([3, 2, 5, 5], 47), Int32Array.of(0, 1, 2), 'deeplift-families');
  });

  it('sums to delta through overlapping max pools (kernel 3, stride 2), a ReLU feeding a pool and GlobalMaxPool', async () => {
    const g = graphOf(
      [
        node('Conv', ['x', 'w1', 'b1'], ['c']),
        node('Relu', ['c'], ['r']),
        node('MaxPool', ['r'], ['m'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }),
        node('Conv', ['m', 'w2'], ['d']),
        node('GlobalMaxPool', ['d'], ['g']),
        node('Flatten', ['g'], ['f']),
        node('Gemm', ['f', 'wd'], ['y']),
      ],
      { w1: randomTensor([3, 1, 3, 3], 51, 0.6), b1: randomTensor([3], 52, 0.2), w2: randomTensor([4, 3, 2, 2], 53, 0.6), wd: randomTensor([4, 3], 54) },
      ['N', 1, 9, 9],
    );
    await expectSummationToDelta(g, randomTensor([3, 1, 9, 9], 55), Int32Array.of(0, 1, 2), 'deeplift-pools');
  });

  it('rescales x·HardSigmoid(x) as a whole: the same attribution as the HardSwish op', async () => {
    const tail = (act: ReturnType<typeof node>[]) =>
      graphOf(
        [node('Gemm', ['x', 'w1', 'b1'], ['a']), ...act, node('Gemm', ['act', 'w2'], ['y'])],
        { w1: randomTensor([5, 6], 61), b1: randomTensor([6], 62, 0.3), w2: randomTensor([6, 2], 63) },
        ['N', 5],
        14,
      );
    const op = await modelFrom(tail([node('HardSwish', ['a'], ['act'])]), 'deeplift-hardswish-op');
    const spelt = await modelFrom(tail([node('HardSigmoid', ['a'], ['h'], { alpha: { type: 'float', value: 1 / 6 } }), node('Mul', ['a', 'h'], ['act'])]), 'deeplift-hardswish-spelt');
    const x = randomTensor([2, 5], 64, 3);
    const a = await explain({ model: op, inputs: x, targets: Int32Array.of(0, 1), method: 'deeplift', params: { baseline: 0.2 } });
    const b = await explain({ model: spelt, inputs: x, targets: Int32Array.of(0, 1), method: 'deeplift', params: { baseline: 0.2 } });
    Array.from(a.attributions.data as Float32Array).forEach((v, i) => expect(b.attributions.data[i]).toBeCloseTo(v, 5));
  });
});
