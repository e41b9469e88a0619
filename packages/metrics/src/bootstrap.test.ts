import { describe, expect, it } from 'vitest';
import { Rng } from '@blameboard/core';
import { bootstrapCi, quantile } from './bootstrap.js';

describe('bootstrapCi', () => {
  it('is null for no values and a point for constant values', () => {
    expect(bootstrapCi([])).toBeNull();
    expect(bootstrapCi([2.5, 2.5, 2.5])).toEqual([2.5, 2.5]);
  });

  it('is reproducible for a seed and changes with the seed', () => {
    const v = Array.from({ length: 40 }, (_, i) => Math.sin(i) * 3 + i / 10);
    expect(bootstrapCi(v, { seed: 7 })).toEqual(bootstrapCi(v, { seed: 7 }));
    expect(bootstrapCi(v, { seed: 7 })).not.toEqual(bootstrapCi(v, { seed: 8 }));
  });

  it('brackets the mean with the normal-theory width for a large sample', () => {
    // 400 values with known sd: the bootstrap 95% CI half-width ≈ 1.96·sd/√n.
    const v = Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? 1 : -1));
    const [lo, hi] = bootstrapCi(v, { seed: 1 })!;
    const expectedHalf = (1.96 * 1) / Math.sqrt(400);
    expect(lo).toBeLessThan(0);
    expect(hi).toBeGreaterThan(0);
    expect((hi - lo) / 2).toBeGreaterThan(expectedHalf * 0.85);
    expect((hi - lo) / 2).toBeLessThan(expectedHalf * 1.15);
  });

  it('quantile interpolates like numpy', () => {
    // numpy.quantile([1, 2, 4, 8], 0.5) = 3, 0.25 → 1.75
    expect(quantile([1, 2, 4, 8], 0.5)).toBe(3);
    expect(quantile([1, 2, 4, 8], 0.25)).toBeCloseTo(1.75, 12);
    expect(quantile([1, 2, 4, 8], 1)).toBe(8);
  });

  it('equals the documented resampling for any values, seeds and sizes (kept draws included)', () => {
    // Straight from the definition: resample b sums values[Rng(seed).int(n)] n times in order.
    const reference = (values: number[], seed: number, resamples = 1000): [number, number] => {
      const rng = new Rng(seed);
      const means: number[] = [];
      for (let b = 0; b < resamples; b++) {
        let sum = 0;
        for (let i = 0; i < values.length; i++) sum += values[rng.int(values.length)];
        means.push(sum / values.length);
      }
      means.sort((a, b) => a - b);
      return [quantile(means, (1 - 0.95) / 2), quantile(means, (1 + 0.95) / 2)];
    };
    const a = Array.from({ length: 50 }, (_, i) => Math.cos(i * 1.3) + i / 7);
    const b = a.map((v, i) => v * v - i);
    // Same (seed, n) twice in a row with other values, then another seed, n and resample count,
    // then n × resamples beyond the kept table.
    expect(bootstrapCi(a, { seed: 3 })).toEqual(reference(a, 3));
    expect(bootstrapCi(b, { seed: 3 })).toEqual(reference(b, 3));
    expect(bootstrapCi(b, { seed: 4 })).toEqual(reference(b, 4));
    expect(bootstrapCi(b.slice(1), { seed: 4 })).toEqual(reference(b.slice(1), 4));
    expect(bootstrapCi(a, { seed: 4, resamples: 300 })).toEqual(reference(a, 4, 300));
    const big = Array.from({ length: 1500 }, (_, i) => Math.sin(i));
    expect(bootstrapCi(big, { seed: 2 })).toEqual(reference(big, 2));
  });
});
