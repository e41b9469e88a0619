import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initTrainingBackend } from './training-backend.js';

/** Gradients of sum(conv2d(x, w) · r) w.r.t. x and w on one backend. */
async function convGrads(backend: string, x: Float32Array, w: Float32Array, r: Float32Array, shapes: {
  x: [number, number, number, number];
  w: [number, number, number, number];
  stride: number;
  pad: 'same' | 'valid';
}): Promise<{ dx: Float32Array; dw: Float32Array }> {
  await tf.setBackend(backend);
  const xt = tf.tensor4d(x, shapes.x);
  const wt = tf.tensor4d(w, shapes.w);
  const y = tf.conv2d(xt, wt, shapes.stride, shapes.pad);
  const rt = tf.tensor(r.subarray(0, y.size), y.shape);
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, shapes.stride, shapes.pad), rt)));
  const [dx, dw] = g([xt, wt]);
  const out = { dx: (await dx.data()) as Float32Array, dw: (await dw.data()) as Float32Array };
  tf.dispose([xt, wt, y, rt, dx, dw]);
  return out;
}

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 1073741824 - 1;
  });
}

describe('wasm conv gradient kernels', () => {
  it.each([
    { x: [3, 9, 8, 2], w: [3, 3, 2, 4], stride: 1, pad: 'same' },
    { x: [3, 9, 8, 2], w: [5, 3, 2, 4], stride: 1, pad: 'valid' },
    { x: [2, 12, 12, 1], w: [5, 5, 1, 3], stride: 1, pad: 'same' },
    { x: [2, 9, 9, 2], w: [3, 3, 2, 3], stride: 2, pad: 'valid' },
    { x: [2, 10, 10, 2], w: [4, 4, 2, 3], stride: 2, pad: 'same' },
  ] as const)('match the cpu backend for x=$x w=$w stride=$stride pad=$pad', async (c) => {
    const { backend } = await initTrainingBackend();
    await import('@tensorflow/tfjs-backend-cpu');
    expect(backend).toBe('wasm');
    const shapes = { x: [...c.x], w: [...c.w], stride: c.stride, pad: c.pad } as Parameters<typeof convGrads>[4];
    const x = random((c.x as readonly number[]).reduce((a, b) => a * b, 1), 1);
    const w = random((c.w as readonly number[]).reduce((a, b) => a * b, 1), 2);
    const r = random(4096, 3);
    const wasm = await convGrads('wasm', x, w, r, shapes);
    const cpu = await convGrads('cpu', x, w, r, shapes);
    expect(wasm.dw.length).toBe(cpu.dw.length);
    for (let i = 0; i < cpu.dw.length; i++) expect(wasm.dw[i]).toBeCloseTo(cpu.dw[i], 4);
    for (let i = 0; i < cpu.dx.length; i++) expect(wasm.dx[i]).toBeCloseTo(cpu.dx[i], 4);
    await tf.setBackend('wasm');
  });
});
