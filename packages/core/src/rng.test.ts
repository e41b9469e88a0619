import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';

describe('Rng.addNormals', () => {
  it('draws exactly what successive normal() calls draw', () => {
    for (const [skip, count, mean, std] of [
      [0, 7, 0, 1],
      [1, 8, 0.5, 0.1],
      [3, 5000, -2, 3], // long enough to take the ziggurat's slow path many times
      [2, 300_000, 0, 1], // the tails beyond R (layer 0) and the state passing 2³¹ many times
    ] as const) {
      const a = new Rng(42);
      const b = new Rng(42);
      for (let i = 0; i < skip; i++) expect(b.normal()).toBe(a.normal());
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

/** Φ, the standard normal CDF (Abramowitz & Stegun 7.1.26: |error| < 1.5e-7). */
function phi(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

describe('Rng.normal is standard normal (the ziggurat)', () => {
  const n = 2_000_000;
  const z = new Rng(2024).fillNormal(new Float64Array(n));

  it('has mean 0, variance 1, no skew and kurtosis 3', () => {
    let m1 = 0;
    for (const v of z) m1 += v;
    m1 /= n;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    for (const v of z) {
      const d = v - m1;
      m2 += d * d;
      m3 += d * d * d;
      m4 += d * d * d * d;
    }
    m2 /= n;
    m3 /= n;
    m4 /= n;
    // Standard errors at n = 2e6: mean 7e-4, variance 1e-3, skewness 1.7e-3, kurtosis 3.5e-3.
    expect(Math.abs(m1)).toBeLessThan(0.003);
    expect(Math.abs(m2 - 1)).toBeLessThan(0.005);
    expect(Math.abs(m3 / m2 ** 1.5)).toBeLessThan(0.008);
    expect(Math.abs(m4 / m2 ** 2 - 3)).toBeLessThan(0.02);
  });

  it('follows Φ everywhere (Kolmogorov–Smirnov), the tails beyond the ziggurat\'s base included', () => {
    const sorted = Float64Array.from(z).sort();
    let d = 0;
    for (let i = 0; i < n; i += 7) d = Math.max(d, Math.abs(phi(sorted[i]) - i / n), Math.abs(phi(sorted[i]) - (i + 1) / n));
    // The 0.1% critical value is 1.95/√n ≈ 0.0014.
    expect(d).toBeLessThan(0.0014);
    for (const cut of [3.442619855899, 4]) {
      let beyond = 0;
      for (const v of z) if (Math.abs(v) > cut) beyond++;
      const expected = 2 * (1 - phi(cut)) * n;
      expect(Math.abs(beyond - expected)).toBeLessThan(4 * Math.sqrt(expected));
    }
  });

  it('draws successive values independently', () => {
    let c = 0;
    let sameSide = 0;
    for (let i = 1; i < n; i++) {
      c += z[i] * z[i - 1];
      if (z[i] > 0 === z[i - 1] > 0) sameSide++;
    }
    expect(Math.abs(c / n)).toBeLessThan(0.004);
    expect(Math.abs(sameSide / n - 0.5)).toBeLessThan(0.002);
  });
});
