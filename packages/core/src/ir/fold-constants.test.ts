import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng.js';
import { float32, sizeOf } from '../tensor.js';
import { readOnnx } from '../onnx/read.js';
import { emptyGraph, int, int64s, ints, node } from '../onnx/test-utils/fixture-graphs.js';
import { writeOnnx } from '../onnx/write.js';
import { OnnxSession } from '../runtime/session.js';
import type { IrGraph } from './types.js';

const sessions: OnnxSession[] = [];
afterAll(async () => Promise.all(sessions.map((s) => s.dispose())));
const INT64_MAX = Number.MAX_SAFE_INTEGER; // stands in for the 2^63-1 exporters write as "to the end"

/** Runs the unfolded bytes and the folded IR on onnxruntime; they must agree exactly. */
async function expectSameOutputs(original: IrGraph, folded: IrGraph, n: number) {
  const shape = original.inputs[0].shape.map((d) => (d === 'N' ? n : (d as number)));
  const x = float32(shape, new Rng(n).fillNormal(new Float32Array(sizeOf(shape))));
  const a = await OnnxSession.create(writeOnnx(original), { intraOpNumThreads: 1 });
  const b = await OnnxSession.create(writeOnnx(folded), { intraOpNumThreads: 1 });
  sessions.push(a, b);
  const ya = (await a.run({ x })).y;
  const yb = (await b.run({ x })).y;
  expect(yb.shape).toEqual(ya.shape);
  expect(yb.data).toEqual(ya.data);
}

const target = (g: IrGraph, reshapeName: string) =>
  Array.from(g.initializers.get(g.nodes.find((n) => n.name === reshapeName)!.inputs[1])!.data as BigInt64Array, Number);

describe('foldConstants', () => {
  it('folds Shape/Gather/Squeeze/Unsqueeze/Mul/Concat/Slice/Cast chains into Reshape constants', async () => {
    const g = emptyGraph({ name: 'x', shape: ['N', 2, 3, 4] });
    const init = (k: string, v: number[], shape?: number[]) => g.initializers.set(k, int64s(v, shape));
    init('c0', [0], []);
    init('c1', [1]);
    init('c2', [2], []);
    init('minus1', [-1]);
    init('starts', [-2]);
    init('ends', [INT64_MAX]);
    init('axes0', [0]);
    g.nodes = [
      node('Shape', 'shape', ['x'], ['s']),
      node('Gather', 'g0', ['s', 'c0'], ['n'], { axis: int(0) }),
      node('Unsqueeze', 'u0', ['n', 'axes0'], ['n1']),
      node('Gather', 'g1', ['s', 'c1'], ['d1v']),
      node('Squeeze', 'q1', ['d1v', 'axes0'], ['d1']),
      node('Gather', 'g2', ['s', 'c2'], ['d2']),
      node('Mul', 'mul', ['d1', 'd2'], ['d12']),
      node('Unsqueeze', 'u12', ['d12', 'axes0'], ['d12v']),
      node('Concat', 'cat', ['n1', 'd12v', 'minus1'], ['t1'], { axis: int(0) }),
      node('Reshape', 'r1', ['x', 't1'], ['v1']),
      node('Slice', 'slice', ['s', 'starts', 'ends', 'axes0'], ['tail']),
      node('Cast', 'tofloat', ['tail'], ['tailf'], { to: int(1) }),
      node('Cast', 'toint', ['tailf'], ['taili'], { to: int(7) }),
      node('Concat', 'cat2', ['n1', 'minus1', 'taili'], ['t2'], { axis: int(0) }),
      node('Reshape', 'r2', ['v1', 't2'], ['v2']),
      node('Add', 'add', ['v2', 'x'], ['y']),
    ];
    g.outputs = [{ name: 'y', dtype: 'float32', shape: ['N', 2, 3, 4] }];
    const original = structuredClone(g);
    const folded = readOnnx(writeOnnx(g));
    expect(folded.nodes.map((n) => n.opType)).toEqual(['Reshape', 'Reshape', 'Add']);
    expect(target(folded, 'r1')).toEqual([0, 6, -1]);
    expect(target(folded, 'r2')).toEqual([0, -1, 3, 4]);
    expect(folded.values.get('v1')!.shape).toEqual(['N', 6, 4]);
    expect(folded.values.get('v2')!.shape).toEqual(['N', 2, 3, 4]);
    expect([...folded.initializers.keys()]).toHaveLength(2); // the chain's constants are gone
    await expectSameOutputs(original, folded, 3);
  });

  it('writes the batch as -1 when the Reshape input does not carry it in the same place', async () => {
    const g = emptyGraph({ name: 'x', shape: ['N', 2, 3, 4] });
    g.initializers.set('c0', int64s([0], []));
    g.initializers.set('axes0', int64s([0]));
    g.initializers.set('f', int64s([24]));
    g.nodes = [
      node('Transpose', 't', ['x'], ['xt'], { perm: ints([3, 2, 1, 0]) }),
      node('Shape', 'shape', ['x'], ['s']),
      node('Gather', 'g0', ['s', 'c0'], ['n']),
      node('Unsqueeze', 'u0', ['n', 'axes0'], ['n1']),
      node('Concat', 'cat', ['n1', 'f'], ['t1'], { axis: int(0) }),
      node('Reshape', 'r', ['xt', 't1'], ['y']),
    ];
    g.outputs = [{ name: 'y', dtype: 'float32', shape: ['N', 24] }];
    const original = structuredClone(g);
    const folded = readOnnx(writeOnnx(g));
    expect(folded.nodes.map((n) => n.opType)).toEqual(['Transpose', 'Reshape']);
    expect(target(folded, 'r')).toEqual([-1, 24]);
    expect(folded.outputs[0].shape).toEqual(['N', 24]);
    await expectSameOutputs(original, folded, 2);
  });

  it('copies named per-sample dims with 0, and leaves a Shape of an unknown value alone', () => {
    const g = emptyGraph({ name: 'x', shape: ['N', 'h'] });
    g.nodes = [node('Shape', 'shape', ['x'], ['s']), node('Reshape', 'r', ['x', 's'], ['y'])];
    g.outputs = [{ name: 'y', dtype: 'float32', shape: ['N', 'h'] }];
    const folded = readOnnx(writeOnnx(g));
    expect(target(folded, 'r')).toEqual([0, 0]);
    expect(folded.outputs[0].shape).toEqual(['N', 'h']);

    g.nodes = [node('Mystery', 'mystery', ['x'], ['m']), node('Shape', 'shape', ['m'], ['s']), node('Reshape', 'r', ['x', 's'], ['y'])];
    expect(() => readOnnx(writeOnnx(g))).toThrow("Mystery (node 'mystery'), Shape (node 'shape')");
  });
});
