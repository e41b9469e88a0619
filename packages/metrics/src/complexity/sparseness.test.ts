import { float32, type LoadedModel } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { sparseness } from './sparseness.js';

const model = {} as LoadedModel; // per-map statistics need no forward pass

describe('sparseness', () => {
  it('scores a spike as sparse and a flat map as dense (higher is better)', async () => {
    const attributions = float32([2, 4], [0, 0, -5, 0, 1, 1, 1, 1]);
    const request = { model, inputs: attributions, targets: new Int32Array(2), attributions, params: {} };
    const s = await sparseness.evaluate(request);
    expect(s.values.gini.perSample).toEqual([expect.closeTo(3 / 4, 12), expect.closeTo(0, 12)]);
    expect(s.values.gini.direction).toBe('higher');
  });

  it('marks all-zero and non-finite maps invalid with a reason', async () => {
    const attributions = float32([3, 2], [0, 0, 1, Infinity, 1, 2]);
    const s = await sparseness.evaluate({ model, inputs: attributions, targets: new Int32Array(3), attributions, params: {} });
    expect(s.values.gini.perSample).toEqual([null, null, expect.closeTo(1 / 6, 12)]);
    expect(s.values.gini.mean).toBeCloseTo(1 / 6, 12);
    expect(s.invalid).toEqual([
      { index: 0, reason: 'gini is undefined for an all-zero attribution' },
      { index: 1, reason: 'attribution has 1 Inf value' },
    ]);
  });
});
