import { sizeOf } from '@blameboard/core';
import { geometryShape } from '../image-shape.js';
import type { AttributionMethod } from '../types.js';

/**
 * Control: the Sobel gradient magnitude of the input, per channel, with replicated borders. It
 * never looks at the model, so a method that does not beat it on selectivity explains the image's
 * edges rather than the network (Adebayo et al. 2018, "Sanity checks for saliency maps").
 * Vectors have no neighbourhood in two dimensions: they get the 1-D analogue, the smoothed
 * central difference |x_{i+1} − x_{i−1}| / 2.
 */
export const edge: AttributionMethod = {
  id: 'edge',
  description: 'control: Sobel gradient magnitude of the input (never looks at the model)',
  kind: 'forward',
  params: [],
  async explain({ inputs, data }) {
    const sample = geometryShape(inputs.shape.slice(1), data?.imageShape);
    const per = sizeOf(sample);
    const x = inputs.data as Float32Array;
    const out = new Float32Array(x.length);
    const n = inputs.shape[0];
    if (sample.length >= 2) {
      const h = sample[sample.length - 2];
      const w = sample[sample.length - 1];
      for (let plane = 0; plane < (n * per) / (h * w); plane++) sobelPlane(x, out, plane * h * w, h, w);
    } else {
      for (let s = 0; s < n; s++) centralDifference(x, out, s * per, per);
    }
    return { attributions: { dtype: 'float32', shape: [...inputs.shape], data: out } };
  },
};

function sobelPlane(x: Float32Array, out: Float32Array, offset: number, h: number, w: number): void {
  const at = (r: number, c: number) => x[offset + Math.min(h - 1, Math.max(0, r)) * w + Math.min(w - 1, Math.max(0, c))];
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const gx = at(r - 1, c + 1) + 2 * at(r, c + 1) + at(r + 1, c + 1) - at(r - 1, c - 1) - 2 * at(r, c - 1) - at(r + 1, c - 1);
      const gy = at(r + 1, c - 1) + 2 * at(r + 1, c) + at(r + 1, c + 1) - at(r - 1, c - 1) - 2 * at(r - 1, c) - at(r - 1, c + 1);
      out[offset + r * w + c] = Math.hypot(gx, gy);
    }
  }
}

function centralDifference(x: Float32Array, out: Float32Array, offset: number, d: number): void {
  for (let i = 0; i < d; i++) {
    const next = x[offset + Math.min(d - 1, i + 1)];
    const prev = x[offset + Math.max(0, i - 1)];
    out[offset + i] = Math.abs(next - prev) / 2;
  }
}
