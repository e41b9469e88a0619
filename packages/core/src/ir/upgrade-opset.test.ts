import { afterAll, describe, expect, it } from 'vitest';
import { UnsupportedOperatorError } from '../errors.js';
import { float, int, ints, node, str } from '../onnx/test-utils/fixture-graphs.js';
import { readOnnx } from '../onnx/read.js';
import { writeOnnx } from '../onnx/write.js';
import { Rng } from '../rng.js';
import { OnnxSession, disposeSessions } from '../runtime/session.js';
import type { Tensor } from '../tensor.js';
import type { Attribute, IrGraph, IrNode } from './types.js';
import { COMPILED_MIN_OPSET, upgradeOpset } from './upgrade-opset.js';

afterAll(() => disposeSessions());

const floats = (value: number[]): Attribute => ({ type: 'floats', value });

function graphAt(opset: number, nodes: IrNode[], inputShape: number[], outputShape: (number | string)[], inits: Record<string, Tensor> = {}): IrGraph {
  return {
    name: 'old',
    irVersion: opset < 9 ? 3 : 4,
    opsetVersion: opset,
    producerName: 'test',
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', ...inputShape] }],
    outputs: [{ name: nodes[nodes.length - 1].outputs[0], dtype: 'float32', shape: outputShape }],
    initializers: new Map(Object.entries(inits)),
    nodes,
    values: new Map(),
  };
}

async function run(bytes: Uint8Array, x: Tensor): Promise<Float32Array> {
  const s = await OnnxSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    return (await s.run({ x }))[s.outputNames[0]].data as Float32Array;
  } finally {
    await s.dispose();
  }
}

function input(shape: number[], seed: number): Tensor {
  const data = new Float32Array(shape.reduce((p, d) => p * d, 1));
  new Rng(seed).fillNormal(data, 0, 2);
  return { dtype: 'float32', shape, data };
}

/** onnxruntime runs the old graph and its upgraded IR to the same numbers. */
async function expectSameFunction(g: IrGraph, x: Tensor): Promise<IrGraph> {
  const ir = readOnnx(writeOnnx(g));
  expect(ir.opsetVersion).toBe(COMPILED_MIN_OPSET);
  const before = await run(writeOnnx(g), x);
  const after = await run(writeOnnx(ir), x);
  expect(Array.from(after)).toEqual(Array.from(before));
  return ir;
}

describe('upgradeOpset reads old operator forms into the IR', () => {
  it('opset 7: Clip min/max, Slice and Pad attributes, Upsample scales, BatchNormalization spatial', async () => {
    const rng = new Rng(3);
    const vec = (n: number, shift = 0): Tensor => ({ dtype: 'float32', shape: [n], data: rng.fillNormal(new Float32Array(n), shift, 0.5) as Float32Array });
    const variance = vec(2);
    (variance.data as Float32Array).forEach((v, i, a) => (a[i] = Math.abs(v) + 0.5));
    const g = graphAt(
      7,
      [
        node('BatchNormalization', 'bn', ['x', 's', 'b', 'm', 'v'], ['n'], { spatial: int(1), epsilon: float(1e-3) }),
        node('Clip', 'clip', ['n'], ['c'], { min: float(-0.5), max: float(1.5) }),
        node('Slice', 'slice', ['c'], ['sl'], { starts: ints([1, 0]), ends: ints([4, -1]), axes: ints([2, 3]) }),
        node('Pad', 'pad', ['sl'], ['p'], { pads: ints([0, 0, 1, 2, 0, 0, 0, 1]), value: float(0.25) }),
        node('Upsample', 'up', ['p'], ['y'], { scales: floats([1, 1, 2, 3]), mode: str('nearest') }),
      ],
      [2, 5, 6],
      ['N', 2, 8, 24],
      { s: vec(2, 1), b: vec(2), m: vec(2), v: variance },
    );
    const ir = await expectSameFunction(g, input([2, 2, 5, 6], 1));
    expect(ir.nodes.map((n) => n.opType)).toEqual(['BatchNormalization', 'Clip', 'Slice', 'Pad', 'Resize']);
    expect(ir.nodes[0].attributes.spatial).toBeUndefined();
    expect(ir.nodes[1].inputs).toHaveLength(3);
    expect(ir.values.get('y')?.shape).toEqual(['N', 2, 8, 24]);
  });

  it('opset 9: linear Upsample with a scales input; opset 10: Resize with scales, downsampling by nearest', async () => {
    const scales: Tensor = { dtype: 'float32', shape: [4], data: Float32Array.of(1, 1, 2, 1.5) };
    const nine = graphAt(9, [node('Upsample', 'up', ['x', 'sc'], ['y'], { mode: str('linear') })], [1, 3, 4], ['N', 1, 6, 6], { sc: scales });
    await expectSameFunction(nine, input([2, 1, 3, 4], 2));
    const half: Tensor = { dtype: 'float32', shape: [4], data: Float32Array.of(1, 1, 0.5, 0.5) };
    const ten = graphAt(10, [node('Resize', 'down', ['x', 'sc'], ['y'], { mode: str('nearest') })], [1, 7, 6], ['N', 1, 3, 3], { sc: half });
    await expectSameFunction(ten, input([2, 1, 7, 6], 3));
  });

  it('opset 11: Squeeze/Unsqueeze/ReduceMean axes and Split sizes as attributes', async () => {
    const g = graphAt(
      11,
      [
        node('Unsqueeze', 'u', ['x'], ['a'], { axes: ints([1]) }),
        node('Split', 's', ['a'], ['p', 'q'], { axis: int(3), split: ints([2, 3]) }),
        node('ReduceMean', 'r', ['q'], ['m'], { axes: ints([3]), keepdims: int(1) }),
        node('Squeeze', 'sq', ['m'], ['y'], { axes: ints([1, 3]) }),
      ],
      [4, 5],
      ['N', 4],
    );
    await expectSameFunction(g, input([3, 4, 5], 4));
  });

  it('refuses, all at once, the old forms that have no opset-18 equivalent', () => {
    const g = graphAt(
      8,
      [
        node('BatchNormalization', 'per_activation', ['x', 's', 'b', 'm', 'v'], ['n'], { spatial: int(0) }),
        node('Upsample', 'mixed', ['n'], ['y'], { scales: floats([1, 1, 2, 0.5]) }),
      ],
      [2, 4],
      ['N', 2, 4],
    );
    let caught: unknown;
    try {
      upgradeOpset(g);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UnsupportedOperatorError);
    expect((caught as UnsupportedOperatorError).ops.map((o) => o.name)).toEqual(['per_activation', 'mixed']);
    expect((caught as Error).message).toMatch(/spatial = 0/);
  });
});
