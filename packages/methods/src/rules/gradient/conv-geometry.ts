import type { Attribute, Dim, GraphBuilder, IrNode } from '@blameboard/core';
import { intsAttr, staticDims, stringAttr, unsupported } from '../attributes.js';

/** A sliding-window op (Conv, pools) with auto_pad resolved to explicit pads. */
export interface WindowGeometry {
  /** Spatial input sizes. */
  input: number[];
  /** Spatial output sizes. */
  output: number[];
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Explicit begin pads, one per spatial axis. */
  padBegin: number[];
  padEnd: number[];
}

/**
 * Resolves a windowed node's geometry from its attributes and the inferred shapes of its
 * input (x, [N, C, ...spatial]) and output.
 */
export function windowGeometry(b: GraphBuilder, node: IrNode, kernel: number[]): WindowGeometry {
  const xShape = b.shapeOf(node.inputs[0]);
  const yShape = b.shapeOf(node.outputs[0]);
  const input = staticDims(node, xShape.slice(2), 'the input');
  const rank = input.length;
  const strides = intsAttr(node, 'strides', Array(rank).fill(1));
  const dilations = intsAttr(node, 'dilations', Array(rank).fill(1));
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  let padBegin: number[];
  let padEnd: number[];
  if (autoPad === 'NOTSET') {
    const pads = intsAttr(node, 'pads', Array(2 * rank).fill(0));
    padBegin = pads.slice(0, rank);
    padEnd = pads.slice(rank);
  } else if (autoPad === 'VALID') {
    padBegin = Array(rank).fill(0);
    padEnd = Array(rank).fill(0);
  } else {
    padBegin = [];
    padEnd = [];
    for (let i = 0; i < rank; i++) {
      const out = Math.ceil(input[i] / strides[i]);
      const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - input[i]);
      const small = Math.floor(total / 2);
      padBegin.push(autoPad === 'SAME_UPPER' ? small : total - small);
      padEnd.push(autoPad === 'SAME_UPPER' ? total - small : small);
    }
  }
  const output = yShape.length === xShape.length && yShape.slice(2).every((d) => typeof d === 'number')
    ? (yShape.slice(2) as number[])
    : input.map((h, i) => Math.floor((h + padBegin[i] + padEnd[i] - ((kernel[i] - 1) * dilations[i] + 1)) / strides[i]) + 1);
  return { input, output, kernel, strides, dilations, padBegin, padEnd };
}

/**
 * Attributes of the ConvTranspose that is the adjoint of a window op with this geometry: same
 * strides and dilations, and end pads / output_padding chosen so that the result has exactly the
 * forward input's size (rows a floor-mode window never reached get zero; windows that ran past
 * the end, as with ceil_mode, are cropped).
 */
export function adjointConvTransposeAttributes(geo: WindowGeometry, group: number): Record<string, Attribute> {
  const padEnd: number[] = [];
  const outputPadding: number[] = [];
  geo.input.forEach((h, i) => {
    const reach = (geo.output[i] - 1) * geo.strides[i] + (geo.kernel[i] - 1) * geo.dilations[i] + 1 - geo.padBegin[i] - h;
    padEnd.push(Math.max(reach, 0));
    outputPadding.push(Math.max(-reach, 0));
  });
  return {
    strides: { type: 'ints', value: geo.strides },
    dilations: { type: 'ints', value: geo.dilations },
    pads: { type: 'ints', value: [...geo.padBegin, ...padEnd] },
    output_padding: { type: 'ints', value: outputPadding },
    group: { type: 'int', value: group },
    kernel_shape: { type: 'ints', value: geo.kernel },
  };
}

export function kernelOf(b: GraphBuilder, node: IrNode): number[] {
  const fromAttr = intsAttr(node, 'kernel_shape', []);
  if (fromAttr.length > 0) return fromAttr;
  const w = b.shapeOf(node.inputs[1]);
  return staticDims(node, w.slice(2), 'the weight');
}

/** Number of channels (axis 1) of a value, which must be static. */
export function channelsOf(node: IrNode, shape: Dim[]): number {
  const c = shape[1];
  if (typeof c !== 'number') throw unsupported(node, 'dynamic channel count');
  return c;
}

