import { afterAll, describe, expect, it } from 'vitest';
import { ModelLoadError, ModelRunError } from '../errors.js';
import type { IrGraph } from '../ir/types.js';
import { writeOnnx } from '../onnx/write.js';
import { Rng } from '../rng.js';
import { float32, type Tensor } from '../tensor.js';
import { disposeSessions, OnnxSession } from './session.js';
import { cachedPool, WorkerSessionPool } from './worker-pool.js';

afterAll(() => disposeSessions());

/** y = relu(x W1ᵀ + b1) W2ᵀ + b2 and, as a second output, the row sums of x (int64 in, int64 out for `k`). */
function twoLayerGraph(): IrGraph {
  const rng = new Rng(4);
  const w = (shape: number[]): Tensor => float32(shape, rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1))));
  const attrs = { transB: { type: 'int' as const, value: 1 } };
  const node = (opType: string, inputs: string[], outputs: string[], attributes = {}) => ({ name: outputs[0], opType, domain: '', inputs, outputs, attributes });
  return {
    name: 'two-layer',
    irVersion: 8,
    opsetVersion: 13,
    producerName: 'test',
    inputs: [
      { name: 'x', dtype: 'float32', shape: ['N', 6] },
      { name: 'k', dtype: 'int64', shape: ['N', 2] },
    ],
    outputs: [
      { name: 'y', dtype: 'float32', shape: ['N', 3] },
      { name: 'k2', dtype: 'int64', shape: ['N', 2] },
    ],
    initializers: new Map([
      ['w1', w([16, 6])],
      ['b1', w([16])],
      ['w2', w([3, 16])],
      ['b2', w([3])],
      ['two', { dtype: 'int64', shape: [], data: BigInt64Array.of(2n) }],
    ]),
    nodes: [node('Gemm', ['x', 'w1', 'b1'], ['h'], attrs), node('Relu', ['h'], ['r']), node('Gemm', ['r', 'w2', 'b2'], ['y'], attrs), node('Mul', ['k', 'two'], ['k2'])],
    values: new Map(),
  };
}

const feeds = (n: number): Record<string, Tensor> => ({
  x: float32([n, 6], new Rng(n).fillNormal(new Float32Array(n * 6))),
  k: { dtype: 'int64', shape: [n, 2], data: BigInt64Array.from({ length: 2 * n }, (_, i) => BigInt(i) - 3n) },
});

describe('WorkerSessionPool', () => {
  it('gives every row exactly what one session gives it, for any number of rows', async () => {
    const bytes = writeOnnx(twoLayerGraph());
    const single = await OnnxSession.create(bytes, { intraOpNumThreads: 1 });
    const pool = await WorkerSessionPool.create(bytes, 2);
    expect(pool.size).toBe(2);
    expect(pool.inputNames).toEqual(['x', 'k']);
    expect(pool.outputNames).toEqual(['y', 'k2']);
    for (const n of [1, 2, 3, 17]) {
      const f = feeds(n);
      const want = await single.run(f);
      const got = await pool.run(f);
      expect(got.y.shape).toEqual([n, 3]);
      expect(Array.from(got.y.data as Float32Array)).toEqual(Array.from(want.y.data as Float32Array));
      expect(got.k2.dtype).toBe('int64');
      expect(Array.from(got.k2.data as BigInt64Array)).toEqual(Array.from(want.k2.data as BigInt64Array));
      // The caller's feeds are read, never moved to the workers.
      expect(f.x.data.length).toBe(6 * n);
    }
    // Runs in flight at once each get their own rows back.
    const [a, b] = await Promise.all([pool.run(feeds(5)), pool.run(feeds(9))]);
    expect(Array.from(a.y.data as Float32Array)).toEqual(Array.from((await single.run(feeds(5))).y.data as Float32Array));
    expect(Array.from(b.y.data as Float32Array)).toEqual(Array.from((await single.run(feeds(9))).y.data as Float32Array));
    await Promise.all([pool.dispose(), single.dispose()]);
    await expect(pool.run(feeds(2))).rejects.toThrow(/after dispose/);
  });

  it('refuses a graph onnxruntime cannot load, and reports a failing run as one typed line', async () => {
    await expect(WorkerSessionPool.create(Uint8Array.of(1, 2, 3), 2)).rejects.toBeInstanceOf(ModelLoadError);
    const pool = await WorkerSessionPool.create(writeOnnx(twoLayerGraph()), 2);
    const failure = await pool.run({ x: float32([4, 5]), k: feeds(4).k }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ModelRunError);
    expect((failure as Error).message).toMatch(/^onnxruntime failed to run the model: /);
    expect((failure as Error).message).not.toContain('\n');
    // The pool still runs after a failed run.
    expect((await pool.run(feeds(4))).y.shape).toEqual([4, 3]);
    await pool.dispose();
  });

  it('dispose waits for the runs in flight; disposeSessions closes the cached pools', async () => {
    const pool = await cachedPool('pool-test', () => writeOnnx(twoLayerGraph()), 2);
    expect(await cachedPool('pool-test', () => writeOnnx(twoLayerGraph()), 2)).toBe(pool);
    const pending = pool.run(feeds(64));
    const closed = disposeSessions();
    expect((await pending).y.shape).toEqual([64, 3]);
    await closed;
    await expect(pool.run(feeds(1))).rejects.toThrow(/after dispose/);
    expect(await cachedPool('pool-test', () => writeOnnx(twoLayerGraph()), 2)).not.toBe(pool);
    await disposeSessions();
  });
});
