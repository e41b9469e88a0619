import { describe, expect, it } from 'vitest';
import { float32, type LoadedModel } from '@blameboard/core';
import { dataContext } from './context.js';

// Only the fields dataContext reads: a model given as a file has no dataset behind it.
const model = { id: 'file.onnx', inputShape: [2, 3] } as unknown as LoadedModel;

describe('dataContext for inputs given as a file', () => {
  const values = Float32Array.from({ length: 18 }, (_, i) => Math.fround(Math.sin(i) * (i + 1)));
  const inputs = float32([3, 2, 3], values);

  it('gives the per-element mean, summed sample by sample, and the value range', async () => {
    const context = await dataContext({ model }, inputs);
    const want = new Float32Array(6);
    for (let s = 0; s < 3; s++) for (let j = 0; j < 6; j++) want[j] += values[s * 6 + j] / 3;
    expect(context.mean!.shape).toEqual([2, 3]);
    expect(Array.from(context.mean!.data as Float32Array)).toEqual(Array.from(want));
    expect(context.range).toEqual([Math.min(...values), Math.max(...values)]);
    expect(context.reference).toBe(inputs);
  });

  it('computes mean and range once, and lets an image range replace the range', async () => {
    const context = await dataContext({ model }, inputs);
    expect(context.mean).toBe(context.mean);
    const images = await dataContext({ model }, inputs, { inputs, format: 'images', pixelRange: { low: [-1, 0, -2], high: [1, 2, 3] } } as never);
    expect(images.range).toEqual([-2, 3]);
    expect(images.inputBounds).toEqual({ low: [-1, 0, -2], high: [1, 2, 3] });
    expect({ ...context }.range).toEqual(context.range);
  });
});
