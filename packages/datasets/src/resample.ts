/**
 * Bilinear resizing as PIL's `Image.resize(…, BILINEAR)` and torchvision's `Resize` (antialias on,
 * the default) compute it: pixel centres aligned (align_corners = False), and when shrinking the
 * triangle filter is widened by the scale factor, so every input pixel contributes (no aliasing).
 * When enlarging it is plain bilinear interpolation with edge pixels repeated. Computed in float64
 * on the decoded values; PIL rounds to 8 bits between its two passes, so results may differ from a
 * PIL pipeline by up to half a grey level.
 */

/** Output o of one axis reads inputs start[o] … start[o] + count[o] − 1 with weights[o·taps + k]. */
export interface AxisWeights {
  start: Int32Array;
  count: Int32Array;
  taps: number;
  weights: Float64Array;
}

const triangle = (x: number): number => {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
};

/**
 * The weights of outputs `from` … `from + n − 1` when `inSize` samples are resized to `outSize`,
 * by PIL's `precompute_coeffs`: centre = (o + ½)·scale, support = max(scale, 1), taps from
 * ⌊centre − support + ½⌋ to ⌊centre + support + ½⌋ (clipped to the image), weight
 * triangle((x − centre + ½) / max(scale, 1)), normalised to sum 1.
 */
export function bilinearWeights(inSize: number, outSize: number, from = 0, n = outSize): AxisWeights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(n);
  const count = new Int32Array(n);
  const weights = new Float64Array(n * taps);
  for (let o = 0; o < n; o++) {
    const centre = (from + o + 0.5) * scale;
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const hi = Math.min(Math.trunc(centre + support + 0.5), inSize);
    let total = 0;
    for (let x = lo; x < hi; x++) {
      const w = triangle((x - centre + 0.5) / filterScale);
      weights[o * taps + x - lo] = w;
      total += w;
    }
    if (total !== 0) for (let k = 0; k < hi - lo; k++) weights[o * taps + k] /= total;
    start[o] = lo;
    count[o] = hi - lo;
  }
  return { start, count, taps, weights };
}

/** One channel of an interleaved image: value of pixel (y, x) is data[(y·width + x)·stride + offset]. */
export interface ChannelView {
  data: ArrayLike<number>;
  width: number;
  height: number;
  stride: number;
  offset: number;
}

/** A window of the resized image: rows top … top + height − 1, columns left … left + width − 1. */
export interface Window {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * Resizes one channel to outHeight×outWidth and returns only `window` of the result, row-major
 * (the crop after the resize, without computing the pixels it drops). Horizontal pass first,
 * then vertical, as PIL does.
 */
export function resizeWindow(src: ChannelView, outHeight: number, outWidth: number, window: Window): Float64Array {
  const cols = bilinearWeights(src.width, outWidth, window.left, window.width);
  const rows = bilinearWeights(src.height, outHeight, window.top, window.height);
  const rowLo = rows.start[0];
  const rowHi = rows.start[window.height - 1] + rows.count[window.height - 1];
  const w = window.width;
  const tmp = new Float64Array((rowHi - rowLo) * w);
  for (let y = rowLo; y < rowHi; y++) {
    const rowBase = y * src.width;
    for (let j = 0; j < w; j++) {
      let s = 0;
      const base = j * cols.taps;
      const x0 = cols.start[j];
      for (let k = 0; k < cols.count[j]; k++) s += cols.weights[base + k] * src.data[(rowBase + x0 + k) * src.stride + src.offset];
      tmp[(y - rowLo) * w + j] = s;
    }
  }
  const out = new Float64Array(window.height * w);
  for (let i = 0; i < window.height; i++) {
    const base = i * rows.taps;
    for (let k = 0; k < rows.count[i]; k++) {
      const weight = rows.weights[base + k];
      const from = (rows.start[i] + k - rowLo) * w;
      for (let j = 0; j < w; j++) out[i * w + j] += weight * tmp[from + j];
    }
  }
  return out;
}
