import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../errors.js';
import type { IrGraph } from '../ir/types.js';
import { float32 } from '../tensor.js';
import { decodeModel } from './read.js';
import { writeOnnx } from './write.js';

function model(weights: number[], bias: number[] = [0, 0, 0]): IrGraph {
  return {
    name: 'm',
    irVersion: 8,
    opsetVersion: 13,
    producerName: 'blameboard-test',
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 3] }],
    initializers: new Map([
      ['W', float32([4, 3], weights)],
      ['b', float32([3], bias)],
    ]),
    nodes: [{ name: 'fc', opType: 'Gemm', domain: '', inputs: ['x', 'W', 'b'], outputs: ['y'], attributes: {} }],
    values: new Map(),
  };
}

/** The model's bytes inside a Node Buffer at an odd offset, as protobufjs then hands out unaligned raw_data views. */
function unaligned(bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0]), Buffer.from(bytes)]).subarray(1);
}

describe('refuseNonFiniteWeights (run by every model decode)', () => {
  const weights = Array.from({ length: 12 }, (_, i) => i / 7 - 0.8);

  it('names the tensor holding NaN or ±Infinity, wherever its bytes lie in memory', () => {
    for (const [bad, what] of [
      [NaN, '1 NaN'],
      [-Infinity, '1 infinite'],
    ] as const) {
      const w = [...weights];
      w[5] = bad;
      for (const bytes of [writeOnnx(model(w)), unaligned(writeOnnx(model(w)))]) {
        expect(() => decodeModel(bytes)).toThrow(new ModelLoadError(`initializer 'W' holds ${what} of its 12 values (first at flat index 5); a model's weights must be finite`));
      }
    }
  });

  it('reads finite weights at an unaligned offset as finite (a Node Buffer\u2019s slice is a view, not a copy)', () => {
    const bytes = unaligned(writeOnnx(model(weights)));
    expect(bytes.byteOffset % 4).not.toBe(0);
    expect(decodeModel(bytes).graph!.initializer).toHaveLength(2);
  });

  it('keeps a single ±Infinity: a bound, not a weight', () => {
    expect(() => decodeModel(writeOnnx(model(weights, [0, Infinity, 0])))).toThrow(/initializer 'b' holds 1 infinite of its 3 values/);
    const g = model(weights);
    g.initializers.set('hi', float32([], [Infinity]));
    expect(decodeModel(writeOnnx(g)).graph!.initializer).toHaveLength(3);
  });
});
