import { describe, expect, it } from 'vitest';
import { randomDirection, straightPath, translate, translationPath } from './paths.js';

describe('translate', () => {
  const img = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]); // [1, 2, 4]: rows (1,2,3,4) and (5,6,7,8)

  it('is the identity at 0 and a pixel shift at integers', () => {
    expect(Array.from(translate(img, [1, 2, 4], 0, 'horizontal'))).toEqual(Array.from(img));
    expect(Array.from(translate(img, [1, 2, 4], 1, 'horizontal'))).toEqual([1, 1, 2, 3, 5, 5, 6, 7]);
    expect(Array.from(translate(img, [1, 2, 4], 1, 'vertical'))).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
  });

  it('interpolates linearly between pixels for sub-pixel shifts', () => {
    // shift 0.25: out(c) = 0.75·x(c) + 0.25·x(c−1)
    expect(Array.from(translate(img, [1, 2, 4], 0.25, 'horizontal'))).toEqual([1, 1.75, 2.75, 3.75, 5, 5.75, 6.75, 7.75]);
    expect(Array.from(translate(img, [1, 2, 4], 1.5, 'horizontal'))).toEqual([1, 1, 1.5, 2.5, 5, 5, 5.5, 6.5]);
  });

  it('builds a path of steps+1 evenly spaced shifts', () => {
    const path = translationPath(img, [1, 2, 4], 1, 4, 'horizontal');
    expect(path).toHaveLength(5);
    expect(path[0]).toEqual(img);
    expect(path[2]).toEqual(translate(img, [1, 2, 4], 0.5, 'horizontal'));
  });
});

describe('straight paths', () => {
  it('uses a seeded unit direction', () => {
    const u = randomDirection(50, 3);
    expect(u.reduce((s, v) => s + v * v, 0)).toBeCloseTo(1, 12);
    expect(randomDirection(50, 3)).toEqual(u);
    expect(randomDirection(50, 4)).not.toEqual(u);
    const path = straightPath(new Float32Array(50), u, 2, 4);
    expect(path).toHaveLength(5);
    const last = path[4];
    expect(Math.sqrt(last.reduce((s, v) => s + v * v, 0))).toBeCloseTo(2, 5);
  });
});
