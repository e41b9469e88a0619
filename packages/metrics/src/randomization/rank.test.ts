import { describe, expect, it } from 'vitest';
import { averageRanks, spearman } from './rank.js';

describe('averageRanks', () => {
  it('gives ties the mean rank', () => {
    expect(Array.from(averageRanks([10, 20, 10, 30, 20, 20]))).toEqual([1.5, 4, 1.5, 6, 4, 4]);
  });
});

describe('spearman', () => {
  it('is ±1 for monotone maps and invariant to monotone transforms', () => {
    const a = [0.1, 5, -3, 2, 7];
    expect(spearman(a, a.map((v) => Math.exp(v)))).toBeCloseTo(1, 12);
    expect(spearman(a, a.map((v) => -v * 3))).toBeCloseTo(-1, 12);
  });

  it('matches the textbook formula 1 − 6Σd²/(n(n²−1)) without ties', () => {
    const a = [1, 2, 3, 4, 5];
    const b = [2, 1, 4, 3, 5];
    // d = (−1, 1, −1, 1, 0), Σd² = 4 → 1 − 24/120 = 0.8
    expect(spearman(a, b)).toBeCloseTo(0.8, 12);
  });

  it('correlates average ranks with ties', () => {
    // ranks (1.5, 1.5, 3, 4) and (1, 2.5, 2.5, 4): centred dot 3.75, squared norms 4.5 each → 5/6
    expect(spearman([1, 1, 2, 3], [1, 2, 2, 3])).toBeCloseTo(5 / 6, 12);
  });

  it('counts two constant maps as identical and one as unrelated', () => {
    expect(spearman([2, 2, 2], [-1, -1, -1])).toBe(1);
    expect(spearman([2, 2, 2], [1, 2, 3])).toBe(0);
  });
});
