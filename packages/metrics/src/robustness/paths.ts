import { Rng } from '@blameboard/core';

/**
 * Sub-pixel translation of an image (channels…, H, W) by `shift` pixels: out(r, c) samples the
 * input at (r, c − shift) (horizontal) or (r − shift, c) (vertical) by linear interpolation
 * between the two neighbouring pixels (bilinear with one axis fixed), edge pixels replicated
 * beyond the border. Content moves right (down) for a positive shift; shift 0 is the identity.
 */
export function translate(
  x: Float32Array,
  sampleShape: readonly number[],
  shift: number,
  direction: 'horizontal' | 'vertical',
): Float32Array {
  const h = sampleShape[sampleShape.length - 2];
  const w = sampleShape[sampleShape.length - 1];
  const planes = x.length / (h * w);
  const whole = Math.floor(shift);
  const frac = shift - whole;
  const out = new Float32Array(x.length);
  const clamp = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);
  for (let p = 0; p < planes; p++) {
    const base = p * h * w;
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        // source coordinate s = dest − shift = (dest − whole − 1) + (1 − frac)
        let v: number;
        if (direction === 'horizontal') {
          const c0 = clamp(c - whole - 1, w);
          const c1 = clamp(c - whole, w);
          v = frac * x[base + r * w + c0] + (1 - frac) * x[base + r * w + c1];
        } else {
          const r0 = clamp(r - whole - 1, h);
          const r1 = clamp(r - whole, h);
          v = frac * x[base + r0 * w + c] + (1 - frac) * x[base + r1 * w + c];
        }
        out[base + r * w + c] = v;
      }
    }
  }
  return out;
}

/** A seeded unit vector in R^d: Rng(seed).normal() per feature, normalised to length 1. */
export function randomDirection(d: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const u = new Float64Array(d);
  let norm = 0;
  for (let i = 0; i < d; i++) {
    u[i] = rng.normal();
    norm += u[i] * u[i];
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < d; i++) u[i] /= norm;
  return u;
}

/** Points x_j = x + (j/steps)·length·u, j = 0…steps. */
export function straightPath(x: Float32Array, u: Float64Array, length: number, steps: number): Float32Array[] {
  return Array.from({ length: steps + 1 }, (_, j) => {
    const t = (j / steps) * length;
    return Float32Array.from(x, (v, i) => v + t * u[i]);
  });
}

/** Points translated by j·distance/steps pixels, j = 0…steps. */
export function translationPath(
  x: Float32Array,
  sampleShape: readonly number[],
  distance: number,
  steps: number,
  direction: 'horizontal' | 'vertical',
): Float32Array[] {
  return Array.from({ length: steps + 1 }, (_, j) => translate(x, sampleShape, (j * distance) / steps, direction));
}
