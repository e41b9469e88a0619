import { float32, type LoadedModel } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { complexity } from './complexity.js';

const model = {} as LoadedModel; // per-map statistics need no forward pass

describe('complexity', () => {
  it('is 0 for a spike and log d for a flat map (lower is better)', async () => {
    const attributions = float32([2, 4], [0, 0, -5, 0, 1, 1, 1, 1]);
    const c = await complexity.evaluate({ model, inputs: attributions, targets: new Int32Array(2), attributions, params: {} });
    expect(c.values.entropy.perSample).toEqual([0, expect.closeTo(Math.log(4), 12)]);
    expect(c.values.entropy.direction).toBe('lower');
  });

  it('marks an all-zero map invalid', async () => {
    const attributions = float32([1, 3]);
    const c = await complexity.evaluate({ model, inputs: attributions, targets: new Int32Array(1), attributions, params: {} });
    expect(c.values.entropy.mean).toBeNull();
    expect(c.invalid).toEqual([{ index: 0, reason: 'entropy is undefined for an all-zero attribution' }]);
  });
});
