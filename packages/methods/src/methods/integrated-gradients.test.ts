import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, sizeOf, targetOutputs as targetLogits } from '@blameboard/core';
import { explain } from '../registry.js';
import { graphOf, int, node, randomTensor } from '@blameboard/testing/graphs';
import { modelFrom, smallCnn, smoothCnn, smoothMlp } from '@blameboard/testing/method-models';

afterAll(() => disposeSessions());

function rowSums(t: { data: unknown; shape: number[] }): number[] {
  const d = t.data as Float32Array;
  const per = sizeOf(t.shape.slice(1));
  return Array.from({ length: t.shape[0] }, (_, i) => {
    let s = 0;
    for (let j = 0; j < per; j++) s += d[i * per + j];
    return s;
  });
}

describe('integrated-gradients', () => {
  // Smooth models: the quadrature, not ReLU kinks, is what is being checked (kinks converge
  // slowly for every rule; the zoo test below covers trained ReLU nets).
  it('is complete: Σ A = f(x) − f(x′) within 1% of |f(x)| at 64 Gauss–Legendre steps', async () => {
    for (const [graph, shape, baseline] of [
      [smoothMlp(3), [4, 5], 'zero'],
      [smoothCnn(4), [3, 2, 8, 8], 0.25],
    ] as const) {
      const model = await modelFrom(graph, 'ig-completeness');
      const x = randomTensor([...shape], 17);
      const targets = Int32Array.from({ length: shape[0] }, (_, i) => i % 3);
      const { attributions } = await explain({ model, inputs: x, targets, method: 'integrated-gradients', params: { steps: 64, baseline } });
      const fx = await targetLogits(model, x, targets);
      const fb = await targetLogits(model, float32([...shape], new Float32Array(x.data.length).fill(baseline === 'zero' ? 0 : baseline)), targets);
      rowSums(attributions).forEach((s, i) => expect(Math.abs(s - (fx[i] - fb[i]))).toBeLessThanOrEqual(0.01 * Math.abs(fx[i])));
    }
  });

  it('gives the same result whatever the batch size (memory is bounded by it, not by steps)', async () => {
    const model = await modelFrom(smallCnn(5), 'ig-batch');
    const x = randomTensor([3, 2, 8, 8], 3);
    const targets = Int32Array.of(0, 1, 2);
    const a = await explain({ model, inputs: x, targets, method: 'integrated-gradients', params: { steps: 7, batchSize: 2 } });
    const b = await explain({ model, inputs: x, targets, method: 'integrated-gradients', params: { steps: 7 }, batchSize: 1000 });
    expect(Array.from(a.attributions.data as Float32Array)).toEqual(Array.from(b.attributions.data as Float32Array));
  });

  it('each rule weighs a constant gradient by Captum’s weight sum', async () => {
    // A linear model has a constant gradient, so every rule returns (x − x′) ⊙ w · Σ_k w_k:
    // Captum's weight sums, 1 (or 1 − 1/n for its trapezoid).
    const w = randomTensor([2, 4], 9);
    const model = await modelFrom(graphOf([node('Gemm', ['x', 'w'], ['y'], { transB: int(1) })], { w }, ['N', 4]), 'ig-linear');
    const x = randomTensor([1, 4], 10);
    for (const [rule, total] of [['riemann-left', 1], ['riemann-right', 1], ['riemann-middle', 1], ['riemann-trapezoid', 1 - 1 / 5], ['gauss-legendre', 1]] as const) {
      const { attributions } = await explain({ model, inputs: x, targets: Int32Array.of(1), method: 'integrated-gradients', params: { steps: 5, rule, baseline: 0.5 } });
      Array.from(attributions.data as Float32Array).forEach((v, j) => {
        const expected = ((x.data[j] as number) - 0.5) * (w.data[4 + j] as number) * total;
        expect(v).toBeCloseTo(expected, 5);
      });
    }
  });

  it('refuses unknown rules and non-integer steps, listing what is allowed', async () => {
    const model = await modelFrom(smoothMlp(1), 'ig-params');
    const x = randomTensor([1, 5], 1);
    await expect(explain({ model, inputs: x, targets: Int32Array.of(0), method: 'integrated-gradients', params: { rule: 'simpson' } })).rejects.toThrow(
      /must be one of gauss-legendre, riemann-left, riemann-right, riemann-middle, riemann-trapezoid/,
    );
    await expect(explain({ model, inputs: x, targets: Int32Array.of(0), method: 'integrated-gradients', params: { steps: 2.5 } })).rejects.toThrow(/integer/);
  });
});
