import type { BackwardRule, GraphBuilder, IrNode } from '@blameboard/core';
import { intAttr, intsAttr, staticDims, unsupported } from '../attributes.js';
import { adjointConvTransposeAttributes, channelsOf, windowGeometry, type WindowGeometry } from './conv-geometry.js';
import { blockedChannels, scaleChannels, spreadOverSpace } from './blocked-layout.js';
import { shapeTarget } from './shape-target.js';

/**
 * The flat indices of each window's maximum (ONNX MaxPool's second output: offsets into the
 * whole input tensor, batch and channel included). Reuses the node's own output when it has one.
 */
export function maxPoolIndices(b: GraphBuilder, node: IrNode, input: string = node.inputs[0]): string {
  if (input === node.inputs[0] && node.outputs.length > 1 && node.outputs[1]) return node.outputs[1];
  const attributes = { ...node.attributes };
  return b.op('MaxPool', [input], attributes, 2)[1];
}

/**
 * Sends each window's signal to its argmax: a scatter-add into zeros shaped like `like`, so
 * overlapping windows that share a maximum add up as in autodiff.
 */
export function scatterToIndices(b: GraphBuilder, signal: string, indices: string, like: string, accumulate?: string): string {
  const flatSignal = b.op('Reshape', [signal, b.int64s([-1])])[0];
  const flatIndices = b.op('Reshape', [indices, b.int64s([-1])])[0];
  const shape = b.op('Shape', [like])[0];
  const base = accumulate ?? b.op('ConstantOfShape', [b.op('Reshape', [b.op('Size', [like])[0], b.int64s([1])])[0]])[0];
  const scattered = b.op('ScatterElements', [base, flatIndices, flatSignal], {
    axis: { type: 'int', value: 0 },
    reduction: { type: 'string', value: 'add' },
  })[0];
  return accumulate ? scattered : b.op('Reshape', [scattered, shape])[0];
}

export function checkMaxPool(node: IrNode): void {
  if (intAttr(node, 'storage_order', 0) !== 0) throw unsupported(node, 'column-major storage_order');
}

/** Windows that never share an element (stride ≥ dilated kernel extent on every axis). */
export function disjointWindows(node: IrNode, kernel: number[]): boolean {
  const strides = intsAttr(node, 'strides', kernel.map(() => 1));
  const dilations = intsAttr(node, 'dilations', kernel.map(() => 1));
  return kernel.every((k, i) => strides[i] >= (k - 1) * dilations[i] + 1);
}

/**
 * Each window's signal goes to its argmax (the first maximum, as autodiff does). Disjoint
 * windows use MaxUnpool, which onnxruntime runs about twice as fast as the general scatter-add.
 */
export const maxPoolGradient: BackwardRule = ({ node, b, upstream }) => [routeToIndices(b, node, upstream[0], maxPoolIndices(b, node))];

/**
 * Sends each window's `signal` to the element `indices` names (MaxPool's argmax indices over
 * the node's input): MaxUnpool for disjoint windows, else a scatter-add.
 */
export function routeToIndices(b: GraphBuilder, node: IrNode, signal: string, indices: string): string {
  const kernel = intsAttr(node, 'kernel_shape', []);
  if (kernel.length > 0 && disjointWindows(node, kernel)) {
    const attributes = {
      kernel_shape: { type: 'ints' as const, value: kernel },
      strides: { type: 'ints' as const, value: intsAttr(node, 'strides', kernel.map(() => 1)) },
    };
    return b.op('MaxUnpool', [signal, indices, b.op('Shape', [node.inputs[0]])[0]], attributes)[0];
  }
  return scatterToIndices(b, signal, indices, node.inputs[0]);
}

export function checkAveragePool(node: IrNode): void {
  if (intsAttr(node, 'dilations', []).some((d) => d !== 1)) throw unsupported(node, 'dilated average pooling');
}

/**
 * 1/(number of elements each window averages), per output position, following onnxruntime:
 * with count_include_pad the window is clipped to the padded input, else to the input itself.
 */
function inverseCounts(geo: WindowGeometry, includePad: boolean): Float32Array {
  const perAxis = geo.output.map((outSize, i) =>
    Array.from({ length: outSize }, (_, o) => {
      const start = o * geo.strides[i] - geo.padBegin[i];
      const end = Math.min(start + geo.kernel[i], geo.input[i] + geo.padEnd[i]);
      return includePad ? end - start : Math.min(end, geo.input[i]) - Math.max(start, 0);
    }),
  );
  const total = geo.output.reduce((p, d) => p * d, 1);
  const out = new Float32Array(total);
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    let count = 1;
    for (let i = geo.output.length - 1; i >= 0; i--) {
      count *= perAxis[i][rest % geo.output[i]];
      rest = Math.floor(rest / geo.output[i]);
    }
    out[flat] = count > 0 ? 1 / count : 0;
  }
  return out;
}

/** Each window spreads signal/count evenly over its elements: a depthwise ConvTranspose with a ones kernel. */
export const averagePoolGradient: BackwardRule = ({ node, b, upstream }) => {
  const kernel = intsAttr(node, 'kernel_shape', []);
  const geo = windowGeometry(b, node, kernel);
  const channels = channelsOf(node, b.shapeOf(node.inputs[0]));
  const inv = b.constant(
    { dtype: 'float32', shape: [1, 1, ...geo.output], data: inverseCounts(geo, intAttr(node, 'count_include_pad', 0) === 1) },
    'bb_avgpool_inverse_counts',
  );
  const ones = b.constant(
    { dtype: 'float32', shape: [channels, 1, ...kernel], data: new Float32Array(channels * kernel.reduce((p, k) => p * k, 1)).fill(1) },
    'bb_avgpool_ones',
  );
  const perElement = b.op('Mul', [upstream[0], inv])[0];
  const [dx] = b.op('ConvTranspose', [perElement, ones], adjointConvTransposeAttributes(geo, channels));
  return [dx];
};

/**
 * Every element receives its channel's signal over the window size: u·(1/count), repeated. On
 * images in whole channel blocks, scaled by a depthwise 1×1 Conv and repeated by a nearest Resize,
 * both exact and both blocked, so the signal enters the backward pass in the blocked layout.
 */
export const globalAveragePoolGradient: BackwardRule = ({ node, b, upstream }) => {
  const x = node.inputs[0];
  const shape = b.shapeOf(x);
  const spatial = staticDims(node, shape.slice(2), 'the input');
  const count = spatial.reduce((p, d) => p * d, 1);
  const channels = blockedChannels(shape);
  if (channels !== null) return [spreadOverSpace(b, scaleChannels(b, upstream[0], channels, 1 / count), shape)];
  const share = b.op('Mul', [upstream[0], b.scalar(1 / count)])[0];
  return [b.op('Expand', [share, shapeTarget(b, x, b.shapeOf(node.outputs[0]), 'Expand')])[0]];
};

/** Every element equal to its channel's maximum receives the signal (autodiff of reduce-max in tfjs). */
export const globalMaxPoolGradient: BackwardRule = ({ node, b, upstream }) => {
  const isMax = b.op('Equal', [node.inputs[0], node.outputs[0]])[0];
  return [b.op('Where', [isMax, upstream[0], b.scalar(0)])[0]];
};
