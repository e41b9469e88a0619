import type { Dim, GraphBuilder } from '@blameboard/core';

/**
 * Building blocks that keep a backward pass in onnxruntime's blocked (NCHWc) layout. Its CPU
 * provider rewrites Conv, pools, Relu/Sigmoid/Tanh, nearest Resize and same-shape Add/Sum/Mul into
 * blocked kernels, and puts a layout reorder around every other op (Greater, Cast, Sub, a
 * broadcasting Mul, Expand, ReduceSum, …): on ResNet-50 and EfficientNet-B0 those reorders were a
 * sixth of the gradient's time. Each block here is exact: a depthwise 1×1 Conv computes
 * bias + w·x with one rounding, as Mul and Add do.
 */

/** onnxruntime's NCHWc block: 16 floats with AVX-512 (8 with AVX2, which 16 also fills). */
export const NCHWC_BLOCK = 16;

/** Channels rounded up to whole blocks. */
export const roundedToBlocks = (channels: number): number => Math.ceil(channels / NCHWC_BLOCK) * NCHWC_BLOCK;

/** The channel count of a 2-D image value whose channels fill whole blocks, else null. */
export function blockedChannels(shape: Dim[]): number | null {
  const channels = shape[1];
  return shape.length === 4 && typeof channels === 'number' && channels > 0 && channels % NCHWC_BLOCK === 0 ? channels : null;
}

/** w·x + bias per element, as a depthwise 1×1 Conv over `channels` channels. */
export function scaleChannels(b: GraphBuilder, x: string, channels: number, w: number, bias?: number): string {
  const weight = b.constant({ dtype: 'float32', shape: [channels, 1, 1, 1], data: new Float32Array(channels).fill(w) }, 'bb_channel_scale');
  const inputs = [x, weight];
  if (bias !== undefined) inputs.push(b.constant({ dtype: 'float32', shape: [channels], data: new Float32Array(channels).fill(bias) }, 'bb_channel_bias'));
  return b.op('Conv', inputs, { group: { type: 'int', value: channels } })[0];
}

/**
 * A [N, C, 1, 1] value repeated to `shape` ([N, C, H, W]): a nearest Resize, which has a blocked
 * kernel (Expand has none). Its shape is declared: onnxruntime's inference leaves a symbolic
 * batch times a scale unknown, and the Mul after it would then leave the blocked layout.
 */
export function spreadOverSpace(b: GraphBuilder, x: string, shape: Dim[]): string {
  const scales = b.constant({ dtype: 'float32', shape: [4], data: Float32Array.of(1, 1, Number(shape[2]), Number(shape[3])) }, 'bb_spread_scales');
  const [spread] = b.op('Resize', [x, '', scales], {
    mode: { type: 'string', value: 'nearest' },
    coordinate_transformation_mode: { type: 'string', value: 'asymmetric' },
    nearest_mode: { type: 'string', value: 'floor' },
  });
  b.declareShape(spread, shape);
  return spread;
}

/** Σ over H×W per channel, [N, C, 1, 1]: a depthwise Conv whose kernel is all ones and covers the image. */
export function sumOverSpace(b: GraphBuilder, x: string, channels: number, spatial: number[]): string {
  const area = spatial[0] * spatial[1];
  const ones = b.constant({ dtype: 'float32', shape: [channels, 1, ...spatial], data: new Float32Array(channels * area).fill(1) }, 'bb_space_sum');
  return b.op('Conv', [x, ones], { group: { type: 'int', value: channels } })[0];
}
