import type { BackwardRule, GraphBuilder, IrNode } from '@blameboard/core';
import { floatAttr, intAttr, intsAttr, staticDims, stringAttr, unsupported } from '../attributes.js';
import { mapAlongAxis, transposed } from './along-axis.js';

/** An interpolation along one axis: out[r] = Σ_c data[r·cols + c] · in[c]. */
export interface AxisMatrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

/** Where output index o of an axis reads the input, in input coordinates (onnxruntime's float32 formulas). */
function originalCoordinate(mode: string, o: number, scale: number, outLen: number, inLen: number): number {
  const f = Math.fround;
  switch (mode) {
    case 'half_pixel':
      return f(f(f(o + 0.5) / scale) - 0.5);
    case 'pytorch_half_pixel':
      return outLen > 1 ? f(f(f(o + 0.5) / scale) - 0.5) : 0;
    case 'align_corners':
      return outLen === 1 ? 0 : f(f(o * (inLen - 1)) / (outLen - 1));
    case 'asymmetric':
      return f(o / scale);
    case 'half_pixel_symmetric': {
      const adjustment = f(outLen / f(scale * inLen));
      const offset = f(f(inLen / 2) * f(1 - adjustment));
      return f(offset + f(f(f(o + 0.5) / scale) - 0.5));
    }
    default:
      throw new Error(`coordinate_transformation_mode '${mode}'`);
  }
}

function nearestIndex(x: number, mode: string): number {
  switch (mode) {
    case 'round_prefer_floor':
      return x === Math.trunc(x) + 0.5 ? Math.floor(x) : Math.round(x);
    case 'round_prefer_ceil':
      return Math.sign(x) * Math.round(Math.abs(x));
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    default:
      throw new Error(`nearest_mode '${mode}'`);
  }
}

/** Keys' cubic convolution weights for the 4 neighbours of a point at fraction s past floor(x). */
function cubicCoefficients(s: number, a: number): number[] {
  const t = 1 - s;
  return [
    ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a,
    ((a + 2) * s - (a + 3)) * s * s + 1,
    ((a + 2) * t - (a + 3)) * t * t + 1,
    ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
  ];
}

/**
 * The [out, in] matrix of a Resize along one axis, following onnxruntime's kernels: nearest
 * (every nearest_mode), linear (coordinate clamped to the input, the two neighbours weighted by
 * distance) and cubic (4 neighbours, edge-clamped or, with exclude_outside, renormalised).
 */
export function resizeMatrix(node: IrNode, inLen: number, outLen: number, scale: number): AxisMatrix {
  const mode = stringAttr(node, 'mode', 'nearest');
  const coordinates = stringAttr(node, 'coordinate_transformation_mode', 'half_pixel');
  const data = new Float32Array(outLen * inLen);
  const clamp = (i: number) => Math.min(Math.max(i, 0), inLen - 1);
  for (let o = 0; o < outLen; o++) {
    const x = originalCoordinate(coordinates, o, scale, outLen, inLen);
    const row = o * inLen;
    if (mode === 'nearest') {
      data[row + clamp(nearestIndex(x, stringAttr(node, 'nearest_mode', 'round_prefer_floor')))] = 1;
    } else if (mode === 'linear') {
      const xc = Math.min(Math.max(x, 0), inLen - 1);
      const x1 = Math.min(Math.trunc(xc), inLen - 1);
      const x2 = Math.min(x1 + 1, inLen - 1);
      if (x1 === x2) {
        data[row + x1] += 1;
      } else {
        data[row + x1] += Math.abs(xc - x2);
        data[row + x2] += Math.abs(xc - x1);
      }
    } else if (mode === 'cubic') {
      const base = Math.floor(x);
      const w = cubicCoefficients(x - base, floatAttr(node, 'cubic_coeff_a', -0.75));
      const excludeOutside = intAttr(node, 'exclude_outside', 0) === 1;
      let total = 0;
      for (let k = 0; k < 4; k++) {
        const idx = base + k - 1;
        if (excludeOutside && (idx < 0 || idx >= inLen)) continue;
        data[row + clamp(idx)] += w[k];
        total += w[k];
      }
      if (excludeOutside) for (let c = 0; c < inLen; c++) data[row + c] /= total;
    } else {
      throw unsupported(node, `mode '${mode}'`);
    }
  }
  return { rows: outLen, cols: inLen, data };
}

/** The axes a Resize changes, each with its length in and out and the scale its coordinates use. */
export function resizedAxes(node: IrNode, b: GraphBuilder): { axis: number; inLen: number; outLen: number; scale: number }[] {
  const coordinates = stringAttr(node, 'coordinate_transformation_mode', 'half_pixel');
  if (coordinates === 'tf_crop_and_resize') throw unsupported(node, "coordinate_transformation_mode 'tf_crop_and_resize'");
  const xShape = b.shapeOf(node.inputs[0]);
  const rank = xShape.length;
  const axes = intsAttr(node, 'axes', Array.from({ length: rank }, (_, i) => i)).map((a) => (a < 0 ? a + rank : a));
  const read = (name: string | undefined) => {
    if (!name) return undefined;
    const t = b.initializer(name);
    if (!t) throw unsupported(node, 'scales or sizes computed at run time');
    return t.data.length > 0 ? Array.from(t.data as ArrayLike<number | bigint>, Number) : undefined;
  };
  const scales = read(node.inputs[2]);
  const sizes = read(node.inputs[3]);
  if (!scales && !sizes) throw unsupported(node, 'neither scales nor sizes');
  const policy = stringAttr(node, 'keep_aspect_ratio_policy', 'stretch');
  // An axis a scale of 1 leaves alone may be symbolic (the batch); every other one must be static.
  const touched = axes.map((a, i) => (scales ? Math.fround(scales[i]) !== 1 : sizes![i] !== xShape[a]));
  const inDims = axes.map((a, i) => (touched[i] || policy !== 'stretch' ? staticDims(node, [xShape[a]], 'a resized axis')[0] : 0));
  let factors: number[];
  let outDims: number[];
  if (sizes) {
    if (policy === 'stretch') factors = sizes.map((s, i) => (touched[i] ? Math.fround(s / inDims[i]) : 1));
    else {
      const ratios = sizes.map((s, i) => s / inDims[i]);
      const r = Math.fround(policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios));
      factors = ratios.map(() => r);
    }
    outDims = policy === 'stretch' ? sizes : inDims.map((d, i) => Math.round(factors[i] * d));
  } else {
    factors = scales!.map((s) => Math.fround(s));
    outDims = inDims.map((d, i) => Math.floor(factors[i] * d));
  }
  const mode = stringAttr(node, 'mode', 'nearest');
  if (intAttr(node, 'antialias', 0) === 1 && mode !== 'nearest' && factors.some((f) => f < 1)) throw unsupported(node, 'antialiased downsampling');
  return axes
    .map((axis, i) => ({ axis, inLen: inDims[i], outLen: outDims[i], scale: factors[i] }))
    .filter((a, i) => touched[i] && !(a.inLen === a.outLen && a.scale === 1));
}

/** Resize is linear in its input: the signal goes back through the transposed interpolation of each resized axis. */
export const resizeGradient: BackwardRule = ({ node, b, upstream }) => {
  const rank = b.shapeOf(node.inputs[0]).length;
  let g = upstream[0];
  for (const { axis, inLen, outLen, scale } of resizedAxes(node, b)) {
    g = mapAlongAxis(b, g, rank, axis, transposed(resizeMatrix(node, inLen, outLen, scale)));
  }
  return node.inputs.map((_, i) => (i === 0 ? g : null));
};
