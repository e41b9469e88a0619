import { describe, expect, it } from 'vitest';
import { float32, Rng } from '@blameboard/core';
import { gaussianBlur, makeBaseline } from './baselines.js';

const inputs = float32([2, 1, 2, 3], [1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6]);

describe('makeBaseline', () => {
  it('zero and constant baselines', () => {
    expect(Array.from(makeBaseline('zero', inputs).data as Float32Array)).toEqual(Array(12).fill(0));
    expect(Array.from(makeBaseline(0.5, inputs).data as Float32Array)).toEqual(Array(12).fill(0.5));
  });
  it('mean tiles the dataset mean and refuses without one', () => {
    const mean = float32([1, 2, 3], [1, 1, 1, 2, 2, 2]);
    expect(Array.from(makeBaseline('mean', inputs, { data: { mean } }).data as Float32Array)).toEqual([1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2]);
    expect(() => makeBaseline('mean', inputs)).toThrow(/needs the dataset mean/);
  });
  it('uniform draws one seeded value per feature inside the range, shared by samples', () => {
    const a = makeBaseline('uniform', inputs, { seed: 3, data: { range: [0, 1] } }).data as Float32Array;
    const b = makeBaseline('uniform', inputs, { seed: 3, data: { range: [0, 1] } }).data as Float32Array;
    const c = makeBaseline('uniform', inputs, { seed: 4, data: { range: [0, 1] } }).data as Float32Array;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Array.from(a.subarray(0, 6))).toEqual(Array.from(a.subarray(6)));
    for (const v of a) expect(v >= 0 && v < 1).toBe(true);
    expect(new Set(a.subarray(0, 6)).size).toBe(6);
  });
  it('blur keeps a constant image constant and the sum of an interior impulse', () => {
    const constant = gaussianBlur(new Float32Array(25).fill(2), [1, 5, 5], 1);
    for (const v of constant) expect(v).toBeCloseTo(2, 6);
    const impulse = new Float32Array(15 * 15);
    impulse[7 * 15 + 7] = 1;
    const blurred = gaussianBlur(impulse, [15, 15], 1);
    expect(blurred.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    expect(blurred[7 * 15 + 7]).toBeCloseTo(1 / (2 * Math.PI), 2);
    expect(blurred[7 * 15 + 8]).toBeLessThan(blurred[7 * 15 + 7]);
    expect(blurred[7 * 15 + 8]).toBeCloseTo(blurred[8 * 15 + 7], 6);
  });
  it('blur of flattened images with data.imageShape equals the blur of the images themselves', () => {
    const rng = new Rng(5);
    const images = float32([2, 1, 6, 7], Float32Array.from({ length: 84 }, () => rng.uniform(-1, 1)));
    const flat = float32([2, 42], images.data as Float32Array);
    const expected = makeBaseline('blur', images, { blurSigma: 1.2 }).data as Float32Array;
    const got = makeBaseline('blur', flat, { blurSigma: 1.2, data: { imageShape: [1, 6, 7] } }).data as Float32Array;
    expect(Array.from(got)).toEqual(Array.from(expected));
    // Without it (or with a shape of another size) the vector is blurred along itself, across rows.
    const plain = makeBaseline('blur', flat, { blurSigma: 1.2 }).data as Float32Array;
    expect(Array.from(plain)).not.toEqual(Array.from(expected));
    const mismatched = makeBaseline('blur', flat, { blurSigma: 1.2, data: { imageShape: [1, 6, 6] } }).data as Float32Array;
    expect(Array.from(mismatched)).toEqual(Array.from(plain));
  });
});
