import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';

describe('Rng.addNormals', () => {
  it('draws exactly what successive normal() calls draw, the pending spare included', () => {
    for (const [skip, count, mean, std] of [
      [0, 7, 0, 1],
      [1, 8, 0.5, 0.1],
      [3, 1, -2, 3],
    ] as const) {
      const a = new Rng(42);
      const b = new Rng(42);
      for (let i = 0; i < skip; i++) expect(b.normal()).toBe(a.normal()); // leaves a spare when odd
      const base = Float32Array.from({ length: count }, (_, i) => i * 0.37 - 1);
      const want = Float32Array.from(base, (x) => x + a.normal(mean, std));
      const got = b.addNormals(new Float32Array(count), base, mean, std);
      expect(Array.from(got)).toEqual(Array.from(want));
      // Both streams continue identically afterwards.
      expect([b.normal(), b.normal(), b.next()]).toEqual([a.normal(), a.normal(), a.next()]);
    }
  });

  it('fillNormal is normal(mean, std) per element, in float64 too', () => {
    const a = new Rng(7);
    const want = Float64Array.from({ length: 11 }, () => a.normal(1, 2));
    expect(Array.from(new Rng(7).fillNormal(new Float64Array(11), 1, 2))).toEqual(Array.from(want));
  });
});
