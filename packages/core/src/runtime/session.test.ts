import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng.js';
import { float32, type Tensor } from '../tensor.js';
import { writeOnnx } from '../onnx/write.js';
import { emptyGraph, int64s, mlpGraph, node } from '../onnx/test-utils/fixture-graphs.js';
import { ModelRunError } from '../errors.js';
import { cachedSession, disposeSessions, OnnxSession } from './session.js';

afterAll(() => disposeSessions());

/** The mlp fixture computed by hand: y = W2 relu(W1 x + b1) + b2. */
function mlpByHand(x: Float32Array, n: number): number[] {
  const init = mlpGraph().initializers;
  const [w1, b1, w2, b2] = ['w1', 'b1', 'w2', 'b2'].map((k) => init.get(k)!.data as Float32Array);
  const out: number[] = [];
  for (let s = 0; s < n; s++) {
    const h = Array.from({ length: 5 }, (_, j) => Math.max(0, b1[j] + [0, 1, 2, 3].reduce((acc, i) => acc + w1[j * 4 + i] * x[s * 4 + i], 0)));
    for (let k = 0; k < 3; k++) out.push(b2[k] + h.reduce((acc, v, j) => acc + w2[k * 5 + j] * v, 0));
  }
  return out;
}

const input = (n: number, seed = 1): Tensor => float32([n, 4], new Rng(seed).fillNormal(new Float32Array(n * 4)));

describe('OnnxSession', () => {
  it('runs a model and returns core tensors', async () => {
    const s = await OnnxSession.create(writeOnnx(mlpGraph()), { intraOpNumThreads: 1 });
    expect(s.inputNames).toEqual(['x']);
    expect(s.outputNames).toEqual(['y']);
    const x = input(4);
    const { y } = await s.run({ x });
    expect(y.dtype).toBe('float32');
    expect(y.shape).toEqual([4, 3]);
    const want = mlpByHand(x.data as Float32Array, 4);
    Array.from(y.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    await s.dispose();
  });

  it('passes int64 as BigInt64Array both ways', async () => {
    const g = emptyGraph({ name: 'x', shape: ['N', 3] });
    g.inputs[0].dtype = 'int64';
    g.initializers.set('two', { dtype: 'int64', shape: [], data: BigInt64Array.of(2n) });
    g.nodes = [node('Mul', 'mul', ['x', 'two'], ['y'])];
    g.outputs = [{ name: 'y', dtype: 'int64', shape: ['N', 3] }];
    const s = await OnnxSession.create(writeOnnx(g), { intraOpNumThreads: 1 });
    const big = 2n ** 40n + 1n;
    const { y } = await s.run({ x: { dtype: 'int64', shape: [1, 3], data: BigInt64Array.of(1n, -3n, big) } });
    expect(y.dtype).toBe('int64');
    expect(y.data).toBeInstanceOf(BigInt64Array);
    expect(Array.from(y.data as BigInt64Array)).toEqual([2n, -6n, 2n * big]);
    await s.dispose();
  });

  it('dispose waits for a run in flight, and runs after dispose are refused', async () => {
    const s = await OnnxSession.create(writeOnnx(mlpGraph()), { intraOpNumThreads: 1 });
    const pending = s.run({ x: input(64) });
    const disposed = s.dispose();
    const { y } = await pending;
    expect(y.shape).toEqual([64, 3]);
    await disposed;
    await expect(s.run({ x: input(1) })).rejects.toThrow(/after dispose/);
  });

  it('refuses bytes onnxruntime cannot load with a ModelLoadError', async () => {
    await expect(OnnxSession.create(Uint8Array.of(1, 2, 3))).rejects.toThrow(/onnxruntime cannot load the model/);
  });
});

describe('cachedSession', () => {
  it('builds a session once per key and thread count', async () => {
    let builds = 0;
    const build = () => {
      builds++;
      return writeOnnx(mlpGraph());
    };
    const [a, b] = await Promise.all([cachedSession('k1', build, { intraOpNumThreads: 1 }), cachedSession('k1', build, { intraOpNumThreads: 1 })]);
    expect(a).toBe(b);
    expect(builds).toBe(1);
    const c = await cachedSession('k2', build, { intraOpNumThreads: 1 });
    expect(c).not.toBe(a);
    expect(builds).toBe(2);
    const d = await cachedSession('k1', build, { intraOpNumThreads: 2 });
    expect(d).not.toBe(a);
    expect(builds).toBe(3);
  });

  it('disposeSessions releases every cached session', async () => {
    const s = await cachedSession('k3', () => writeOnnx(mlpGraph()), { intraOpNumThreads: 1 });
    await disposeSessions();
    await expect(s.run({ x: input(1) })).rejects.toThrow(/after dispose/);
    const again = await cachedSession('k3', () => writeOnnx(mlpGraph()), { intraOpNumThreads: 1 });
    expect(again).not.toBe(s);
    expect((await again.run({ x: input(2) })).y.shape).toEqual([2, 3]);
  });
});

describe('a model that fails inside onnxruntime', () => {
  it('reports one typed line (a Reshape whose export fixed the batch at 1)', async () => {
    const g = emptyGraph({ name: 'x', shape: ['N', 4] });
    g.initializers.set('shape', int64s([1, 4]));
    g.nodes.push(node('Reshape', 'fixed_batch_reshape', ['x', 'shape'], ['y']));
    g.outputs = [{ name: 'y', dtype: 'float32', shape: [1, 4] }];
    const session = await OnnxSession.create(writeOnnx(g));
    await expect(session.run({ x: float32([1, 4]) })).resolves.toBeDefined();
    const failure = await session.run({ x: float32([3, 4]) }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ModelRunError);
    expect((failure as ModelRunError).exitCode).toBe(2);
    expect((failure as Error).message).toMatch(/onnxruntime failed to run the model/);
    expect((failure as Error).message).not.toContain('\n');
    await session.dispose();
  });
});
