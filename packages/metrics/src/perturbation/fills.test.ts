import { float32, Rng, UsageError } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { fillBatch, gaussianBlur, makeFill } from './fills.js';

describe('makeFill', () => {
  const x = Float32Array.from([0.2, 0.4, 0.6, 0.8]);

  it('fills zero, a number and the dataset mean', () => {
    expect(Array.from(makeFill('zero', { sampleShape: [4], seed: 0 })(x))).toEqual([0, 0, 0, 0]);
    expect(Array.from(makeFill(0.5, { sampleShape: [4], seed: 0 })(x))).toEqual([0.5, 0.5, 0.5, 0.5]);
    const mean = float32([4], [1, 2, 3, 4]);
    expect(Array.from(makeFill('mean', { sampleShape: [4], seed: 0, mean })(x))).toEqual([1, 2, 3, 4]);
    expect(() => makeFill('mean', { sampleShape: [4], seed: 0 })).toThrow(UsageError);
    expect(() => makeFill('nope', { sampleShape: [4], seed: 0 })).toThrow(/known fills/);
  });

  it('draws uniform noise once per feature inside the range, the same for every sample', () => {
    const fill = makeFill('uniform', { sampleShape: [1000], seed: 3, range: [-2, 5] });
    const a = fill(new Float32Array(1000));
    const b = fill(new Float32Array(1000).fill(1));
    expect(a).toEqual(b);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...a)).toBeLessThan(5);
    expect(new Set(a).size).toBeGreaterThan(990);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean).toBeGreaterThan(1.5 - 0.3);
    expect(mean).toBeLessThan(1.5 + 0.3);
    const other = makeFill('uniform', { sampleShape: [1000], seed: 4, range: [-2, 5] })(x);
    expect(other).not.toEqual(a);
  });

  it('takes the uniform range from the inputs when none is given', () => {
    const inputs = float32([2, 3], [-1, 0, 0.5, 2, 1, 0]);
    const batch = fillBatch('uniform', inputs, { seed: 0 });
    for (const v of batch.data) {
      expect(v).toBeGreaterThanOrEqual(-1);
      expect(v).toBeLessThan(2);
    }
  });
});

describe('gaussianBlur', () => {
  it('keeps a constant image and its total mass away from the border', () => {
    const flat = new Float32Array(2 * 9 * 9).fill(0.3);
    for (const v of gaussianBlur(flat, [2, 9, 9], 1.5)) expect(v).toBeCloseTo(0.3, 6);
    const dot = new Float32Array(15 * 15);
    dot[7 * 15 + 7] = 1;
    const b = gaussianBlur(dot, [1, 15, 15], 1);
    expect(b.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
    // Separable Gaussian truncated at 4σ: the centre weight is g(0)² with g(0) = 1/Σ_j exp(−j²/2), j = −4…4.
    let z = 0;
    for (let j = -4; j <= 4; j++) z += Math.exp(-(j * j) / 2);
    expect(b[7 * 15 + 7]).toBeCloseTo(1 / (z * z), 6);
    expect(b[7 * 15 + 8]).toBeCloseTo(Math.exp(-0.5) / (z * z), 6);
  });

  it('reflects at the border like scipy.ndimage.gaussian_filter1d', () => {
    // gaussian_filter1d([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], 1) (mode='reflect', truncate=4):
    // a spike at the edge keeps its mirror image: out[0] = g(0) + g(1).
    let z = 0;
    for (let j = -4; j <= 4; j++) z += Math.exp(-(j * j) / 2);
    const v = gaussianBlur(Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]), [10], 1);
    expect(v[0]).toBeCloseTo((1 + Math.exp(-0.5)) / z, 6);
    expect(v[1]).toBeCloseTo((Math.exp(-0.5) + Math.exp(-2)) / z, 6);
    expect(v.reduce((s, a) => s + a, 0)).toBeCloseTo(1, 6);
  });

  it('blurs vectors along the features', () => {
    const v = gaussianBlur(Float32Array.from([0, 0, 0, 0, 3, 0, 0, 0, 0]), [9], 1);
    expect(v[4]).toBeLessThan(3);
    expect(v[3]).toBeCloseTo(v[5], 7);
    expect(v.reduce((s, a) => s + a, 0)).toBeCloseTo(3, 5);
  });
});

describe('blur fill of flattened images', () => {
  it('with imageShape equals the blur of the reshaped image; without it blurs along the vector', () => {
    const rng = new Rng(2);
    const x = Float32Array.from({ length: 784 }, () => rng.uniform(0, 1));
    const onImage = makeFill('blur', { sampleShape: [1, 28, 28], seed: 0, blurSigma: 1.3 })(x);
    const onFlat = makeFill('blur', { sampleShape: [784], imageShape: [1, 28, 28], seed: 0, blurSigma: 1.3 })(x);
    expect(Array.from(onFlat)).toEqual(Array.from(onImage));
    const plain = makeFill('blur', { sampleShape: [784], seed: 0, blurSigma: 1.3 })(x);
    expect(Array.from(plain)).not.toEqual(Array.from(onImage));
    const batch = fillBatch('blur', float32([1, 784], x), { seed: 0, blurSigma: 1.3, imageShape: [1, 28, 28] });
    expect(Array.from(batch.data as Float32Array)).toEqual(Array.from(onImage));
  });
});

