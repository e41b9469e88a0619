import { describe, expect, it } from 'vitest';
import { entropy, gini } from './statistics.js';

describe('gini', () => {
  it('is 0 for a flat map and (n−1)/n for a single spike', () => {
    expect(gini([2, -2, 2, 2])).toBeCloseTo(0, 12);
    expect(gini([0, 0, -5, 0])).toBeCloseTo(3 / 4, 12);
  });

  it('matches a hand computation', () => {
    // sorted |v| = 1, 2, 3: Σ(2i−n−1)v = −2·1 + 0·2 + 2·3 = 4; n·Σv = 18 → 2/9
    expect(gini([3, -1, 2])).toBeCloseTo(2 / 9, 12);
  });

  it('is NaN for an all-zero map', () => {
    expect(gini([0, 0])).toBeNaN();
  });
});

describe('entropy', () => {
  it('is log n for a flat map and 0 for a spike', () => {
    expect(entropy([1, -1, 1, 1])).toBeCloseTo(Math.log(4), 12);
    expect(entropy([0, 7, 0])).toBe(0);
  });

  it('matches a hand computation and is NaN for zeros', () => {
    // p = (1/4, 3/4)
    expect(entropy([1, -3])).toBeCloseTo(-(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75)), 12);
    expect(entropy([0, 0, 0])).toBeNaN();
  });
});
