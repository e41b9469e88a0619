import { describe, expect, it } from 'vitest';
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
});
