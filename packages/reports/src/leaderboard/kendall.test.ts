import { describe, expect, it } from 'vitest';
import { kendallTauB } from './kendall.js';

describe('kendallTauB', () => {
  it('is 1 for the same order, −1 for the reverse', () => {
    expect(kendallTauB([1, 2, 3, 4], [10, 20, 30, 40])).toBe(1);
    expect(kendallTauB([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
  });

  it('counts concordant and discordant pairs by hand', () => {
    // Pairs of (a, b) = (1,3) (2,4) (3,1) (4,2) (5,5): 10 pairs, 6 concordant, 4 discordant → 0.2.
    expect(kendallTauB([1, 2, 3, 4, 5], [3, 4, 1, 2, 5])).toBeCloseTo(0.2, 12);
  });

  it('corrects for ties as τ-b (scipy.stats.kendalltau)', () => {
    // a has one tied pair: n0 = 6, n1 = 1, n2 = 0, C = 5, D = 0 → 5 / √(5 · 6).
    expect(kendallTauB([1, 1, 2, 3], [1, 2, 3, 4])).toBeCloseTo(5 / Math.sqrt(30), 12);
  });

  it('is null without an ordering to compare', () => {
    expect(kendallTauB([1, 2], [1, 2])).toBeNull();
    expect(kendallTauB([5, 5, 5], [1, 2, 3])).toBeNull();
  });
});
