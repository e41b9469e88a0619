import { forwardRows, sizeOf, targetOutputs } from '@blameboard/core';
import { baselineParam, baselineSpec, blurSigmaParam, makeBaseline, seedParam } from '../baselines.js';
import type { AttributionMethod } from '../types.js';

/**
 * Window positions along one axis, Captum's way: floor((L − w)/s) + 1 starts from 0, so a
 * remainder the stride never reaches is not occluded (and gets attribution 0).
 */
function starts(length: number, window: number, stride: number): number[] {
  const w = Math.min(window, length);
  return Array.from({ length: Math.floor((length - w) / stride) + 1 }, (_, k) => k * stride);
}

/** Flat feature indices of every window: all channels together over the last two (or only) axes. */
export function occlusionWindows(sampleShape: number[], window: number, stride: number): number[][] {
  const spatial = sampleShape.length >= 2 ? sampleShape.slice(-2) : [sampleShape[0]];
  const channels = sizeOf(sampleShape.slice(0, sampleShape.length - spatial.length));
  const plane = sizeOf(spatial);
  const out: number[][] = [];
  if (spatial.length === 1) {
    for (const s of starts(spatial[0], window, stride)) {
      out.push(Array.from({ length: Math.min(window, spatial[0]) }, (_, k) => s + k));
    }
    return out;
  }
  const [h, w] = spatial;
  const wh = Math.min(window, h);
  const ww = Math.min(window, w);
  for (const r of starts(h, window, stride)) {
    for (const c of starts(w, window, stride)) {
      const cells: number[] = [];
      for (let ch = 0; ch < channels; ch++) {
        for (let i = r; i < r + wh; i++) for (let j = c; j < c + ww; j++) cells.push(ch * plane + i * w + j);
      }
      out.push(cells);
    }
  }
  return out;
}

/** The window step of resolved occlusion parameters: `stride`, else the window (the spec's default). */
export function occlusionStride(params: Record<string, unknown>): number {
  return (params.stride as number | undefined) ?? (params.window as number);
}

/**
 * Occlusion (Zeiler & Fergus 2014; Captum's Occlusion): the drop f_t(x) − f_t(x with a window
 * set to the baseline), averaged over the windows that cover each feature. Forward-only: the
 * occluded copies stream through the model's own ONNX in batches.
 */
export const occlusion: AttributionMethod = {
  id: 'occlusion',
  description: 'f_t(x) − f_t(x with a sliding window set to the baseline), averaged over the windows covering each feature',
  kind: 'forward',
  params: [
    { name: 'window', type: 'integer', description: 'window side (pixels; features for vectors; at most 4096); all channels together', default: 4, min: 1, max: 4096 },
    { name: 'stride', type: 'integer', description: 'window step (default: the window; at most 4096)', min: 1, max: 4096 },
    baselineParam('the value the window is set to'),
    blurSigmaParam,
    seedParam,
  ],
  async explain({ model, inputs, targets, params, data, batchSize, memory }) {
    const window = params.window as number;
    const stride = occlusionStride(params);
    const sampleShape = inputs.shape.slice(1);
    const per = sizeOf(sampleShape);
    const windows = occlusionWindows(sampleShape, window, stride);
    const counts = new Float64Array(per);
    for (const cells of windows) for (const k of cells) counts[k]++;
    const baseline = makeBaseline(baselineSpec(params.baseline), inputs, { data, seed: params.seed as number, blurSigma: params.blurSigma as number });
    const full = await targetOutputs(model, inputs, targets, { batchSize, memory });
    const x = inputs.data as Float32Array;
    const b = baseline.data as Float32Array;
    const n = inputs.shape[0];
    const sums = new Float64Array(n * per);
    const m = windows.length;
    await forwardRows(model, {
      rows: n * m,
      batchSize,
      memory,
      fill: (row, xRow) => {
        const i = Math.floor(row / m);
        const o = i * per;
        xRow.set(x.subarray(o, o + per));
        for (const k of windows[row % m]) xRow[k] = b[o + k];
      },
      consume: (row, logits) => {
        const i = Math.floor(row / m);
        const drop = full[i] - logits[targets[i]];
        for (const k of windows[row % m]) sums[i * per + k] += drop;
      },
    });
    const out = new Float32Array(n * per);
    for (let k = 0; k < out.length; k++) {
      const c = counts[k % per];
      out[k] = c > 0 ? sums[k] / c : 0;
    }
    return { attributions: { dtype: 'float32', shape: [...inputs.shape], data: out } };
  },
};
