import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, inferShapes, loadModel, Rng, writeOnnx, type Dim, type IrGraph, type Tensor } from '@blameboard/core';
import { useCompileCache } from './compile-cache.js';
import { explain } from './registry.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bb-fixed-batch-'));
afterAll(async () => {
  useCompileCache(null);
  await disposeSessions();
  rmSync(dir, { recursive: true, force: true });
});

/** x → Gemm → Tanh → Gemm, the batch fixed at `batch` or left free. */
function mlp(batch: Dim): IrGraph {
  const rng = new Rng(3);
  const w = (shape: number[]): Tensor => float32(shape, rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1))));
  const gemm = (inputs: string[], out: string) => ({ name: out, opType: 'Gemm', domain: '', inputs, outputs: [out], attributes: { transB: { type: 'int' as const, value: 1 } } });
  const g: IrGraph = {
    name: 'mlp',
    irVersion: 8,
    opsetVersion: 13,
    producerName: 'test',
    inputs: [{ name: 'x', dtype: 'float32', shape: [batch, 4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [batch, 3] }],
    initializers: new Map([['w1', w([5, 4])], ['b1', w([5])], ['w2', w([3, 5])], ['b2', w([3])]]),
    nodes: [gemm(['x', 'w1', 'b1'], 'h'), { name: 't', opType: 'Tanh', domain: '', inputs: ['h'], outputs: ['a'], attributes: {} }, gemm(['a', 'w2', 'b2'], 'y')],
    values: new Map(),
  };
  inferShapes(g);
  return g;
}

describe('a model exported with a fixed batch', () => {
  it('is explained by compiled methods in padded runs of its batch, as the same model with a free batch (with and without the compile cache)', async () => {
    const fixed = await loadModel({ bytes: writeOnnx(mlp(2)), id: 'fixed-2' });
    const free = await loadModel({ bytes: writeOnnx(mlp('N')), id: 'free' });
    const x = float32([5, 4], new Rng(9).fillNormal(new Float32Array(20)));
    const targets = Int32Array.of(0, 1, 2, 0, 1);
    for (const cache of [null, dir]) {
      useCompileCache(cache);
      for (const [method, params] of [['gradient', {}], ['integrated-gradients', { steps: 3 }], ['lrp', { composite: 'epsilon' }]] as const) {
        const want = (await explain({ model: free, inputs: x, targets, method, params })).attributions.data as Float32Array;
        const got = (await explain({ model: fixed, inputs: x, targets, method, params })).attributions.data as Float32Array;
        expect(want.some((v) => v !== 0)).toBe(true);
        Array.from(got).forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
      }
    }
  });
});
