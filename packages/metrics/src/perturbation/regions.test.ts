import { describe, expect, it } from 'vitest';
import { Rng } from '@blameboard/core';
import { morfOrder, regionGrid, regionScores, stageCounts } from './regions.js';

describe('regionGrid', () => {
  it('tiles a 2×5×5 image with 2×2 patches, edge regions smaller, channels together', () => {
    const g = regionGrid([2, 5, 5], 2);
    expect(g.count).toBe(9);
    // Row-major over the 3×3 grid; feature (c, row, col) = c·25 + row·5 + col.
    expect(g.regionOf[0]).toBe(0);
    expect(g.regionOf[1 * 5 + 2]).toBe(1); // row 1, col 2
    expect(g.regionOf[4]).toBe(2); // row 0, col 4: right edge column
    expect(g.regionOf[4 * 5 + 4]).toBe(8); // bottom-right corner
    expect(g.regionOf[25 + 4 * 5 + 4]).toBe(8); // same pixel in channel 1
    expect(Array.from(g.members[0])).toEqual([0, 1, 5, 6, 25, 26, 30, 31]);
    expect(Array.from(g.members[8])).toEqual([24, 49]);
    expect(g.members.reduce((n, m) => n + m.length, 0)).toBe(50);
  });

  it('runs over consecutive features for vectors', () => {
    const g = regionGrid([7], 3);
    expect(g.count).toBe(3);
    expect(Array.from(g.regionOf)).toEqual([0, 0, 0, 1, 1, 1, 2]);
  });
});

describe('ordering', () => {
  it('sums attributions per region, optionally of magnitudes', () => {
    const g = regionGrid([4], 2);
    const attr = [9, 1, -2, -3, 4, 0];
    expect(Array.from(regionScores(g, attr, 2, false))).toEqual([-5, 4]);
    expect(Array.from(regionScores(g, attr, 2, true))).toEqual([5, 4]);
  });

  it('orders by decreasing score with ties by region index', () => {
    expect(Array.from(morfOrder([1, 3, 1, 3, -2]))).toEqual([1, 3, 0, 2, 4]);
  });

  it('gives the definition’s order for short and long lists with many ties, ±0 and infinities', () => {
    // Reference from the definition alone: a region precedes every region with a lower score and
    // every equal-scored region of higher index, so its position is the count of those before it.
    const reference = (scores: number[]) => {
      const order = new Array<number>(scores.length);
      scores.forEach((s, i) => {
        order[scores.filter((t, j) => t > s || (t === s && j < i)).length] = i;
      });
      return order;
    };
    const rng = new Rng(5);
    for (const n of [1, 2, 7, 49, 64, 65, 200]) {
      const scores = Array.from({ length: n }, () => [-1.5, -0, 0, 0.25, 2, 7][rng.int(6)] * (rng.next() < 0.2 ? rng.next() : 1));
      expect(Array.from(morfOrder(scores)), `n = ${n}`).toEqual(reference(scores));
    }
    expect(Array.from(morfOrder([0, Infinity, -Infinity, Infinity, 3]))).toEqual([1, 3, 4, 0, 2]);
  });

  it('counts regions per stage as round(k·fraction·R/L) with halves up', () => {
    expect(Array.from(stageCounts(5, 2, 1))).toEqual([0, 3, 5]); // 2.5 → 3
    expect(Array.from(stageCounts(49, 4, 0.5))).toEqual([0, 6, 12, 18, 25]); // 6.125, 12.25, 18.375, 24.5
    expect(Array.from(stageCounts(3, 6, 1))).toEqual([0, 1, 1, 2, 2, 3, 3]); // 0.5 → 1, 1.5 → 2, 2.5 → 3
  });
});
