import { describe, expect, it } from 'vitest';
import { float32, type LoadedModel } from '@blameboard/core';
import { explain } from '../registry.js';

// edge never runs the model; a stub with the input contract is enough.
const stub = (inputShape: number[]) => ({ id: 'stub', inputShape, outputSize: 2, inputName: 'x', graph: null, unsupported: [] }) as unknown as LoadedModel;

describe('edge', () => {
  it('is the Sobel gradient magnitude of each channel, borders replicated', async () => {
    // A vertical step: columns 0–1 are 0, columns 2–3 are 1 (4×4, one sample, one channel).
    const x = float32([1, 1, 4, 4], [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]);
    const { attributions } = await explain({ model: stub([1, 4, 4]), inputs: x, targets: new Int32Array(1), method: 'edge' });
    // Sobel x across the step: (1 + 2 + 1) at the two columns beside it, 0 on the flat columns; no vertical change.
    expect(Array.from(attributions.data as Float32Array)).toEqual([0, 4, 4, 0, 0, 4, 4, 0, 0, 4, 4, 0, 0, 4, 4, 0]);
  });

  it('treats each channel separately and ignores the model and the target', async () => {
    const a = float32([1, 2, 3, 3], [0, 0, 0, 0, 1, 0, 0, 0, 0, /* channel 1 flat */ 5, 5, 5, 5, 5, 5, 5, 5, 5]);
    const r0 = await explain({ model: stub([2, 3, 3]), inputs: a, targets: new Int32Array([0]), method: 'edge' });
    const r1 = await explain({ model: stub([2, 3, 3]), inputs: a, targets: new Int32Array([1]), method: 'edge' });
    const d = Array.from(r0.attributions.data as Float32Array);
    expect(Array.from(r1.attributions.data as Float32Array)).toEqual(d);
    expect(d.slice(9)).toEqual(new Array(9).fill(0));
    // A single bright pixel: the corners of its 3×3 neighbourhood see |gx| = |gy| = 1 → √2; its own gradient is 0.
    expect(d[4]).toBe(0);
    expect(d[0]).toBeCloseTo(Math.SQRT2, 6);
    expect(d[1]).toBeCloseTo(2, 6);
  });

  it('uses the image layout of flattened images, and central differences for vectors', async () => {
    const img = float32([1, 16], [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]);
    const flat = await explain({ model: stub([16]), inputs: img, targets: new Int32Array(1), method: 'edge', data: { imageShape: [1, 4, 4] } });
    expect(Array.from(flat.attributions.data as Float32Array)).toEqual([0, 4, 4, 0, 0, 4, 4, 0, 0, 4, 4, 0, 0, 4, 4, 0]);
    const vec = await explain({ model: stub([5]), inputs: float32([1, 5], [0, 1, 3, 3, 3]), targets: new Int32Array(1), method: 'edge' });
    expect(Array.from(vec.attributions.data as Float32Array)).toEqual([0.5, 1.5, 1, 0, 0]);
  });
});
