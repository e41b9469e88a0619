import { describe, expect, it } from 'vitest';
import { float32, type LoadedModel } from '@blameboard/core';
import { explain } from '../registry.js';

// random never runs the model; a stub with the input contract is enough.
const model = { id: 'stub', inputShape: [10, 10], outputSize: 2, inputName: 'x', graph: null, unsupported: [] } as unknown as LoadedModel;

describe('random', () => {
  it('is seeded N(0, 1) noise shaped like the inputs', async () => {
    const inputs = float32([20, 10, 10]);
    const targets = new Int32Array(20);
    const a = await explain({ model, inputs, targets, method: 'random', params: { seed: 5 } });
    const b = await explain({ model, inputs, targets, method: 'random', params: { seed: 5 } });
    const c = await explain({ model, inputs, targets, method: 'random', params: { seed: 6 } });
    const d = Array.from(a.attributions.data as Float32Array);
    expect(a.attributions.shape).toEqual([20, 10, 10]);
    expect(Array.from(b.attributions.data as Float32Array)).toEqual(d);
    expect(Array.from(c.attributions.data as Float32Array)).not.toEqual(d);
    const mean = d.reduce((s, v) => s + v, 0) / d.length;
    const variance = d.reduce((s, v) => s + (v - mean) ** 2, 0) / d.length;
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(Math.abs(variance - 1)).toBeLessThan(0.1);
  });
});
