import { describe, expect, it } from 'vitest';
import { Rng } from '@blameboard/core';
import { ensureBackend, getTf, initTfjs } from './backend.js';
import { registerGradients } from './gradient.js';

describe('wasm MaxPoolGrad replacement', () => {
  it('sends each window gradient to its maximum when all values are negative', async () => {
    const info = await initTfjs();
    const tf = await getTf();
    await registerGradients();
    expect(await ensureBackend('wasm')).toBe(true);
    await tf.setBackend('wasm');
    const x = tf.tensor4d([-0.5, -0.2, -3, -4, -0.7, -0.1, -3, -4], [1, 2, 4, 1]);
    const g = tf.grad((v) => tf.sum(tf.maxPool(v as typeof x, [1, 2], [1, 2], 'valid')))(x);
    // Windows (−0.5, −0.2), (−3, −4), (−0.7, −0.1), (−3, −4): maxima at 1, 2, 5, 6.
    expect(Array.from(await g.data())).toEqual([0, 1, 1, 0, 0, 1, 1, 0]);
    await tf.setBackend(info.backend);
  });

  it('equals the cpu backend on overlapping, padded windows of mixed sign', async () => {
    const info = await initTfjs();
    const tf = await getTf();
    await registerGradients();
    expect(await ensureBackend('cpu')).toBe(true);
    expect(await ensureBackend('wasm')).toBe(true);
    const rng = new Rng(5);
    const values = Float32Array.from({ length: 2 * 7 * 6 * 3 }, () => rng.normal());
    const dyValues = Float32Array.from({ length: 2 * 4 * 3 * 3 }, () => rng.normal());
    const results: number[][] = [];
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      const x = tf.tensor4d(values, [2, 7, 6, 3]);
      const dy = tf.tensor4d(dyValues, [2, 4, 3, 3]);
      // 'same' padding with a 3x3 window and stride 2: windows overlap and cross the border.
      const g = tf.grad((v) => tf.sum(tf.mul(tf.maxPool(v as typeof x, 3, 2, 'same'), dy)))(x);
      results.push(Array.from(await g.data()));
    }
    await tf.setBackend(info.backend);
    // Equal up to the order in which overlapping windows add into one element (float32 ulps).
    const worst = results[0].reduce((m, v, i) => Math.max(m, Math.abs(v - results[1][i])), 0);
    expect(worst).toBeLessThan(1e-6);
    expect(results[0].some((v) => v !== 0)).toBe(true);
  });
});
