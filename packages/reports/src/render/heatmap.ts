import { sizeOf, type Tensor } from '@blameboard/core';
import { diverging, grey, type Rgb } from './colormap.js';
import { encodePng } from './png.js';

/** One sample's map in its image plane: relevance summed over channels, the input averaged. */
interface Plane {
  h: number;
  w: number;
  heat: Float64Array;
  grey: Float64Array;
}

/**
 * The [h, w] plane a sample is drawn in: the last two axes of an image, or `imageShape` for a
 * flattened image; a vector is one row.
 */
export function planeShape(sample: readonly number[], imageShape?: readonly number[]): [number, number] {
  const shape = imageShape && sizeOf(imageShape) === sizeOf(sample) ? imageShape : sample;
  return shape.length >= 2 ? [shape[shape.length - 2], shape[shape.length - 1]] : [1, shape[0]];
}

function plane(inputs: Tensor | null, attributions: Tensor, s: number, h: number, w: number): Plane {
  const per = sizeOf(attributions.shape.slice(1));
  const channels = per / (h * w);
  const heat = new Float64Array(h * w);
  const g = new Float64Array(h * w);
  const r = attributions.data as Float32Array;
  const x = inputs?.data as Float32Array | undefined;
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < h * w; p++) {
      heat[p] += r[s * per + c * h * w + p];
      if (x) g[p] += x[s * per + c * h * w + p] / channels;
    }
  }
  return { h, w, heat, grey: g };
}

class Raster {
  readonly rgb: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rgb = new Uint8Array(width * height * 3).fill(255);
  }

  paint(x: number, y: number, c: Rgb): void {
    const i = (y * this.width + x) * 3;
    this.rgb[i] = c[0];
    this.rgb[i + 1] = c[1];
    this.rgb[i + 2] = c[2];
  }

  /** A plane at (left, top), each value a scale×scale block (vectors: blocks `stripe` px tall). */
  drawPlane(p: Plane, left: number, top: number, scale: number, stripe: number, color: (i: number) => Rgb): void {
    for (let i = 0; i < p.h * p.w; i++) {
      const c = color(i);
      const row = Math.floor(i / p.w);
      const col = i % p.w;
      const tall = p.h === 1 ? stripe : scale;
      for (let dy = 0; dy < tall; dy++) for (let dx = 0; dx < scale; dx++) this.paint(left + col * scale + dx, top + row * scale + dy, c);
    }
  }
}

function heatColor(p: Plane): (i: number) => Rgb {
  let peak = 0;
  for (const v of p.heat) if (Number.isFinite(v)) peak = Math.max(peak, Math.abs(v));
  return (i) => diverging(peak > 0 && Number.isFinite(p.heat[i]) ? p.heat[i] / peak : 0);
}

function greyColor(p: Plane): (i: number) => Rgb {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of p.grey) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return (i) => grey(p.grey[i], lo, hi);
}

export interface HeatmapOptions {
  maxSamples?: number;
  /** Pixels per input value (default: images about 112 px, vectors about 512 px wide). */
  scale?: number;
  imageShape?: readonly number[];
}

function layout(sample: readonly number[], opts: HeatmapOptions) {
  const [h, w] = planeShape(sample, opts.imageShape);
  const scale = opts.scale ?? (h === 1 ? Math.max(1, Math.floor(512 / w)) : Math.max(1, Math.floor(112 / Math.max(h, w))));
  const stripe = 12 * scale;
  return { h, w, scale, stripe, gap: 2 * scale, cellW: w * scale, cellH: h === 1 ? stripe : h * scale };
}

/**
 * Attributions as a PNG people can look at (`explain --heatmap`): one row per sample, the input
 * in grey beside its map (red = evidence for the target, blue = against, white = none; each map
 * scaled by its own max |R|). Images sum relevance over channels; vectors are one strip each.
 */
export function renderHeatmaps(inputs: Tensor, attributions: Tensor, opts: HeatmapOptions = {}): Uint8Array {
  const n = Math.min(inputs.shape[0], opts.maxSamples ?? 16);
  const { h, w, scale, stripe, gap, cellW, cellH } = layout(inputs.shape.slice(1), opts);
  const raster = new Raster(2 * cellW + 3 * gap, n * (cellH + gap) + gap);
  for (let s = 0; s < n; s++) {
    const p = plane(inputs, attributions, s, h, w);
    const top = gap + s * (cellH + gap);
    raster.drawPlane(p, gap, top, scale, stripe, greyColor(p));
    raster.drawPlane(p, 2 * gap + cellW, top, scale, stripe, heatColor(p));
  }
  return encodePng(raster.width, raster.height, raster.rgb);
}

/**
 * One strip of the report's heatmap grid: the given samples side by side, either the inputs in
 * grey (`attributions` null) or one configuration's maps in the diverging colours.
 */
export function renderStrip(inputs: Tensor, attributions: Tensor | null, opts: HeatmapOptions = {}): Uint8Array {
  const n = Math.min(inputs.shape[0], opts.maxSamples ?? 6);
  const { h, w, scale, stripe, gap, cellW, cellH } = layout(inputs.shape.slice(1), opts);
  const raster = new Raster(n * (cellW + gap) + gap, cellH + 2 * gap);
  for (let s = 0; s < n; s++) {
    const p = plane(attributions ? null : inputs, attributions ?? inputs, s, h, w);
    raster.drawPlane(p, gap + s * (cellW + gap), gap, scale, stripe, attributions ? heatColor(p) : greyColor(p));
  }
  return encodePng(raster.width, raster.height, raster.rgb);
}
