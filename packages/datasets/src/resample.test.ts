import { describe, expect, it } from 'vitest';
import { bilinearWeights, resizeWindow } from './resample.js';

const weightsOf = (w: ReturnType<typeof bilinearWeights>, o: number) => Array.from(w.weights.subarray(o * w.taps, o * w.taps + w.count[o]));

describe('bilinearWeights (PIL / torchvision antialiased bilinear)', () => {
  it('shrinks 4 → 2 with a triangle twice as wide, by hand', () => {
    // scale 2, support 2. Output 0: centre 1, taps 0..2 at distances 0.5, 0.5, 1.5 → 1 − d/2 = ¾, ¾, ¼ → 3:3:1.
    // Output 1: centre 3, taps 1..3 at distances 1.5, 0.5, 0.5 → 1:3:3.
    const w = bilinearWeights(4, 2);
    expect([w.start[0], w.count[0], w.start[1], w.count[1]]).toEqual([0, 3, 1, 3]);
    weightsOf(w, 0).forEach((v, k) => expect(v).toBeCloseTo([3 / 7, 3 / 7, 1 / 7][k], 15));
    weightsOf(w, 1).forEach((v, k) => expect(v).toBeCloseTo([1 / 7, 3 / 7, 3 / 7][k], 15));
  });

  it('enlarges 2 → 4 as plain bilinear with half-pixel centres and repeated edges', () => {
    // Output centres in input coordinates: 0.25, 0.75, 1.25, 1.75 → a, ¾a + ¼b, ¼a + ¾b, b.
    const out = resizeWindow({ data: [10, 30], width: 2, height: 1, stride: 1, offset: 0 }, 1, 4, { top: 0, left: 0, height: 1, width: 4 });
    expect(Array.from(out)).toEqual([10, 15, 25, 30]);
  });

  it('leaves an image unchanged at its own size, and a flat image flat at any size', () => {
    const data = Array.from({ length: 12 }, (_, i) => (i * 37) % 11);
    const same = resizeWindow({ data, width: 4, height: 3, stride: 1, offset: 0 }, 3, 4, { top: 0, left: 0, height: 3, width: 4 });
    expect(Array.from(same)).toEqual(data);
    const flat = resizeWindow({ data: new Array(35).fill(0.7), width: 7, height: 5, stride: 1, offset: 0 }, 3, 11, { top: 0, left: 0, height: 3, width: 11 });
    for (const v of flat) expect(v).toBeCloseTo(0.7, 14);
  });
});

describe('resizeWindow', () => {
  it('is the separable product of the row and column weights, read from one channel of interleaved pixels', () => {
    // 4×4 → 2×2: out[i][j] = Σ_y Σ_x r_i(y) c_j(x) p[y][x], with r = c = the 3:3:1 / 1:3:3 weights above.
    const p = (y: number, x: number) => y * 10 + x;
    const rgba = new Array(16 * 4).fill(255);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) rgba[(y * 4 + x) * 4 + 1] = p(y, x);
    const out = resizeWindow({ data: rgba, width: 4, height: 4, stride: 4, offset: 1 }, 2, 2, { top: 0, left: 0, height: 2, width: 2 });
    const k = [[3, 3, 1, 0], [0, 1, 3, 3]];
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        let want = 0;
        for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) want += (k[i][y] * k[j][x] * p(y, x)) / 49;
        expect(out[i * 2 + j]).toBeCloseTo(want, 12);
      }
    }
  });

  it('computes a crop window equal to the same pixels of the full resize', () => {
    const data = Array.from({ length: 9 * 13 }, (_, i) => Math.sin(i) * 100);
    const src = { data, width: 13, height: 9, stride: 1, offset: 0 };
    const full = resizeWindow(src, 5, 7, { top: 0, left: 0, height: 5, width: 7 });
    const window = resizeWindow(src, 5, 7, { top: 1, left: 2, height: 3, width: 4 });
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) expect(window[i * 4 + j]).toBe(full[(i + 1) * 7 + j + 2]);
  });
});
