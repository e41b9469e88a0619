import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, type LoadedModel } from '@blameboard/core';
import { explain } from '../registry.js';
import { graphOf, int, node, randomTensor } from '@blameboard/testing/graphs';
import { modelFrom, smallCnn } from '@blameboard/testing/method-models';
import { occlusionWindows } from './occlusion.js';

afterAll(() => disposeSessions());

const values = (t: { data: unknown }) => Array.from(t.data as Float32Array);

describe('occlusion', () => {
  it('on a linear model with window 1 is gradient × (x − baseline)', async () => {
    const w = randomTensor([2, 6], 1);
    const model = await modelFrom(graphOf([node('Gemm', ['x', 'w'], ['y'], { transB: int(1) })], { w }, ['N', 6]), 'occlusion-linear');
    const x = randomTensor([2, 6], 2);
    const { attributions } = await explain({ model, inputs: x, targets: Int32Array.of(0, 1), method: 'occlusion', params: { window: 1, baseline: 0.5 } });
    values(attributions).forEach((v, k) => {
      const [i, j] = [Math.floor(k / 6), k % 6];
      expect(v).toBeCloseTo((w.data[i * 6 + j] as number) * ((x.data[k] as number) - 0.5), 5);
    });
  });

  it('averages the drops of the overlapping windows covering each feature (Captum convention)', async () => {
    // f = Σ w_j x_j, window 2, stride 1 over 4 features: windows {0,1}, {1,2}, {2,3}.
    const w = float32([1, 4], [1, 2, 3, 4]);
    const model = await modelFrom(graphOf([node('Gemm', ['x', 'w'], ['y'], { transB: int(1) })], { w }, ['N', 4]), 'occlusion-overlap');
    const x = float32([1, 4], [1, 1, 1, 1]);
    const { attributions } = await explain({ model, inputs: x, targets: Int32Array.of(0), method: 'occlusion', params: { window: 2, stride: 1 } });
    expect(values(attributions)).toEqual([3, (3 + 5) / 2, (5 + 7) / 2, 7]);
  });

  it('covers image windows over all channels, leaving an unreached remainder at 0', () => {
    const windows = occlusionWindows([2, 5, 5], 2, 2);
    expect(windows).toHaveLength(4);
    expect(windows[0]).toEqual([0, 1, 5, 6, 25, 26, 30, 31]);
    const covered = new Set(windows.flat());
    expect(covered.has(4)).toBe(false);
    expect(covered.has(20)).toBe(false);
  });

  it('runs on a model whose graph the IR cannot model (forward-only)', async () => {
    const model = await modelFrom(smallCnn(1), 'occlusion-forward-only');
    const opaque: LoadedModel = { ...model, graph: null, unsupported: [{ opType: 'Erf', name: 'gelu/erf' }] };
    const x = randomTensor([2, 2, 8, 8], 3);
    const a = await explain({ model: opaque, inputs: x, targets: Int32Array.of(0, 1), method: 'occlusion', params: { window: 4 } });
    const b = await explain({ model, inputs: x, targets: Int32Array.of(0, 1), method: 'occlusion', params: { window: 4 } });
    expect(values(a.attributions)).toEqual(values(b.attributions));
    await expect(explain({ model: opaque, inputs: x, targets: Int32Array.of(0, 1), method: 'gradient' })).rejects.toThrow(/Erf \(node 'gelu\/erf'\)/);
  });
});
