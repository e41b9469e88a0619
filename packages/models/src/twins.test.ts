import { writeOnnx } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { maxAbsDifference, runOnnx } from './check.js';
import { randomTensor, tinyCnn, tinyMlp } from '@blameboard/testing/tiny-graphs';
import { rescaledTwin, splitChannelTwin } from './twins.js';

const outputs = async (g: Parameters<typeof writeOnnx>[0], x: ReturnType<typeof randomTensor>) =>
  (await runOnnx(writeOnnx(g), x)).data as Float32Array;

describe('rescaledTwin', () => {
  it('scales the first Gemm by c and the next by 1/c, and computes the same function', async () => {
    const g = tinyMlp(3);
    const twin = rescaledTwin(g, 3);
    const w1 = g.initializers.get('w1')!.data as Float32Array;
    const tw1 = twin.initializers.get(twin.nodes[0].inputs[1])!.data as Float32Array;
    const w2 = g.initializers.get('w2')!.data as Float32Array;
    const tw2 = twin.initializers.get(twin.nodes[2].inputs[1])!.data as Float32Array;
    expect(tw1[5]).toBeCloseTo(3 * w1[5], 6);
    expect(tw2[5]).toBeCloseTo(w2[5] / 3, 6);
    // the original is untouched
    expect(g.initializers.get('w1')!.data[5]).toBe(w1[5]);
    const x = randomTensor([64, 6], 9, 2);
    const a = await outputs(g, x);
    const b = await outputs(twin, x);
    expect(maxAbsDifference(a, b)).toBeLessThan(1e-5);
    // and the twin is not trivially the same weights
    expect(maxAbsDifference(w1, tw1)).toBeGreaterThan(0.1);
  });

  it('rejects a non-positive factor and graphs without a Gemm → Relu → Gemm chain', () => {
    expect(() => rescaledTwin(tinyMlp(), -1)).toThrow(/positive/);
    expect(() => rescaledTwin(tinyCnn())).toThrow(/no Gemm → Relu → layer chain/);
  });
});

describe('splitChannelTwin', () => {
  it('adds one channel to the first conv and one input channel to the next, same function', async () => {
    const g = tinyCnn(5);
    const twin = splitChannelTwin(g, 2);
    const conv1 = twin.nodes.find((n) => n.name === 'conv1')!;
    const conv2 = twin.nodes.find((n) => n.name === 'conv2')!;
    expect(twin.initializers.get(conv1.inputs[1])!.shape).toEqual([5, 2, 3, 3]);
    expect(twin.initializers.get(conv1.inputs[2])!.shape).toEqual([5]);
    expect(twin.initializers.get(conv2.inputs[1])!.shape).toEqual([3, 5, 3, 3]);
    const b1 = g.initializers.get('b1')!.data;
    const tb1 = twin.initializers.get(conv1.inputs[2])!.data;
    expect(tb1[2]).toBeCloseTo((b1[2] as number) / 2, 7);
    expect(tb1[4]).toBeCloseTo((b1[2] as number) / 2, 7);
    const x = randomTensor([16, 2, 8, 8], 11, 1);
    expect(maxAbsDifference(await outputs(g, x), await outputs(twin, x))).toBeLessThan(1e-5);
  });

  it('rejects a channel out of range and graphs without a Conv → Relu → Conv chain', () => {
    expect(() => splitChannelTwin(tinyCnn(), 4)).toThrow(/channel 4 is not in \[0, 4\)/);
    expect(() => splitChannelTwin(tinyMlp())).toThrow(/no Conv → Relu → layer chain/);
  });
});
