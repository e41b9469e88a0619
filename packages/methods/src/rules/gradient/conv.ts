import { defaultThreads, sizeOf, type Attribute, type BackwardRule, type Tensor } from '@blameboard/core';
import { intAttr, intsAttr, staticDims, stringAttr } from '../attributes.js';
import { producerOf } from '../graph-index.js';
import { blockedChannels, roundedToBlocks, scaleChannels } from './blocked-layout.js';
import { adjointConvTransposeAttributes, kernelOf, windowGeometry } from './conv-geometry.js';

/**
 * The weights of the stride-1 convolution that is the adjoint of `w` [M, C/g, …k]: input and
 * output channels swapped within each group and every kernel flipped, [C, M/g, …k].
 */
export function flippedKernel(w: Tensor, group: number): Tensor {
  const [m, cg, ...k] = w.shape;
  const c = cg * group;
  const mg = m / group;
  const area = sizeOf(k);
  const src = w.data as Float32Array;
  const out = new Float32Array(src.length);
  for (let g = 0; g < group; g++) {
    for (let oc = 0; oc < mg; oc++) {
      for (let ic = 0; ic < cg; ic++) {
        const from = ((g * mg + oc) * cg + ic) * area;
        const to = ((g * cg + ic) * mg + oc) * area;
        for (let j = 0; j < area; j++) out[to + area - 1 - j] = src[from + j];
      }
    }
  }
  return { dtype: 'float32', shape: [c, mg, ...k], data: out };
}

/** How the input gradient of a Conv is computed; each is exact, they differ only in speed. */
export type ConvAdjoint = 'flipped-conv' | 'matmul-col2im' | 'conv-transpose';

/**
 * Picks the fastest exact adjoint for onnxruntime's CPU kernels, from measurements on the 2-core
 * AVX-512 box (docs/decisions.md, "Performance of compiled graphs"):
 * - the stride-1 Conv with flipped kernels runs in the blocked layout at the forward pass's speed,
 *   but evaluates the kernel at every input position (a 'valid' layer's border: `area` > 1) on
 *   channels padded to the block — worth it while that waste stays small ('same' layers);
 * - otherwise, with several threads, one batched MatMul Wᵀ·g and Col2Im: ConvTranspose runs a
 *   small GEMM and col2im per image, each dispatched to the thread pool, which made it 2–4× slower
 *   with 2 threads than with 1;
 * - single-threaded, ConvTranspose (no dispatch cost, and its per-image buffers stay in cache).
 */
export function chooseConvAdjoint(g: {
  inputChannels: number;
  outputChannels: number;
  group: number;
  input: number[];
  output: number[];
  stride1: boolean;
  constantWeight: boolean;
  threads: number;
}): ConvAdjoint {
  const area = sizeOf(g.input) / Math.max(1, sizeOf(g.output));
  const channels = (roundedToBlocks(g.inputChannels) / g.inputChannels) * (roundedToBlocks(g.outputChannels) / g.outputChannels);
  const flippedFits = g.stride1 && g.constantWeight && (g.group > 1 ? g.inputChannels >= 8 : area <= 1.5 && area * channels <= 4);
  if (flippedFits) return 'flipped-conv';
  if (g.threads > 1 && g.group === 1 && g.constantWeight) return 'matmul-col2im';
  return 'conv-transpose';
}

/** ∂/∂x of a convolution, computed the way `choose` says (default: `chooseConvAdjoint` with the session's threads). */
export function convGradientVia(choose: (g: Parameters<typeof chooseConvAdjoint>[0]) => ConvAdjoint = chooseConvAdjoint): BackwardRule {
  return ({ node, graph, b, upstream }) => {
    const geo = windowGeometry(b, node, kernelOf(b, node));
    const group = intAttr(node, 'group', 1);
    const w = b.initializer(node.inputs[1]);
    const reach = geo.kernel.map((k, i) => (k - 1) * geo.dilations[i]);
    const padBegin = reach.map((r, i) => r - geo.padBegin[i]);
    // Sized so the adjoint's output is exactly the forward input: (K−1)·d − pad_end at stride 1.
    const padEnd = geo.input.map((h, i) => h - geo.output[i] + geo.padBegin[i]);
    const inputChannels = staticDims(node, b.shapeOf(node.inputs[0]).slice(1, 2), 'the input')[0];
    const constantWeight = w !== undefined && w.dtype === 'float32';
    const how = choose({
      inputChannels,
      outputChannels: constantWeight ? w.shape[0] : inputChannels,
      group,
      input: geo.input,
      output: geo.output,
      stride1: geo.strides.every((st) => st === 1) && [...padBegin, ...padEnd].every((p) => p >= 0),
      constantWeight,
      threads: defaultThreads(),
    });
    if (how === 'flipped-conv' && constantWeight) {
      const flipped = b.constant(flippedKernel(w, group), `${node.inputs[1]}_flipped`);
      const [dx] = b.op('Conv', [upstream[0], flipped], {
        dilations: { type: 'ints', value: geo.dilations },
        group: { type: 'int', value: group },
        kernel_shape: { type: 'ints', value: geo.kernel },
        pads: { type: 'ints', value: [...padBegin, ...padEnd] },
        strides: { type: 'ints', value: geo.strides },
      });
      return [dx, null, null];
    }
    if (how === 'matmul-col2im' && constantWeight && group === 1) {
      // col[n] = Wᵀ·g[n] ([C·∏k, L]) for every sample in one batched MatMul, then Col2Im sums each
      // column back over the window it came from: the exact adjoint of the Conv's im2col.
      const [m, ...rest] = w.shape;
      const rows = sizeOf(rest);
      const wt = new Float32Array(m * rows);
      const src = w.data as Float32Array;
      for (let o = 0; o < m; o++) for (let r = 0; r < rows; r++) wt[r * m + o] = src[o * rows + r];
      const weightT = b.constant({ dtype: 'float32', shape: [rows, m], data: wt }, `${node.inputs[1]}_T`);
      const columns = b.op('MatMul', [weightT, b.op('Reshape', [upstream[0], b.int64s([0, m, sizeOf(geo.output)])])[0]])[0];
      const [dx] = b.op('Col2Im', [columns, b.int64s(geo.input), b.int64s(geo.kernel)], {
        dilations: { type: 'ints', value: geo.dilations },
        pads: { type: 'ints', value: [...geo.padBegin, ...geo.padEnd] },
        strides: { type: 'ints', value: geo.strides },
      });
      // onnxruntime's shape inference loses Col2Im's batch dimension; declared, and passed through
      // a depthwise identity Conv (each output is 0 + 1·x), the signal goes back into the blocked
      // layout, where a ReLU's mask and the sums after it stay (see reluMask). Before anything
      // else (mnist-cnn's max-pool routing) that would only add two reorders.
      b.declareShape(dx, b.shapeOf(node.inputs[0]));
      const blocked = blockedChannels(b.shapeOf(node.inputs[0]));
      const producer = producerOf(graph, node.inputs[0]);
      if (blocked !== null && producer?.opType === 'Relu') return [scaleChannels(b, dx, blocked, 1), null, null];
      return [dx, null, null];
    }
    const [dx] = b.op('ConvTranspose', [upstream[0], node.inputs[1]], adjointConvTransposeAttributes(geo, group));
    return [dx, null, null];
  };
}

/** ∂/∂x of a convolution (see `chooseConvAdjoint`). */
export const convGradient: BackwardRule = convGradientVia();

/** ∂/∂x of a transposed convolution: the Conv with the same weights and pads. */
export const convTransposeGradient: BackwardRule = ({ node, b, upstream }) => {
  const kernel = kernelOf(b, node);
  const xShape = staticDims(node, b.shapeOf(node.inputs[0]).slice(2), 'the input');
  const rank = xShape.length;
  const strides = intsAttr(node, 'strides', Array(rank).fill(1));
  const dilations = intsAttr(node, 'dilations', Array(rank).fill(1));
  const outputPadding = intsAttr(node, 'output_padding', Array(rank).fill(0));
  const outputShape = intsAttr(node, 'output_shape', []);
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  let pads = intsAttr(node, 'pads', Array(2 * rank).fill(0));
  if (outputShape.length > 0 || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    // ONNX ConvTranspose: total padding from the requested output shape (SAME: input × stride).
    const target = outputShape.length > 0 ? outputShape.slice(-rank) : xShape.map((h, i) => h * strides[i]);
    const begin: number[] = [];
    const end: number[] = [];
    xShape.forEach((h, i) => {
      const total = strides[i] * (h - 1) + outputPadding[i] + ((kernel[i] - 1) * dilations[i] + 1) - target[i];
      const half = Math.floor(total / 2);
      // As onnxruntime and the ONNX spec: only SAME_UPPER puts the odd element at the end.
      if (autoPad === 'SAME_UPPER') {
        begin.push(half);
        end.push(total - half);
      } else {
        begin.push(total - half);
        end.push(half);
      }
    });
    pads = [...begin, ...end];
  } else if (autoPad === 'VALID') {
    pads = Array(2 * rank).fill(0);
  }
  const attrs: Record<string, Attribute> = {
    strides: { type: 'ints', value: strides },
    dilations: { type: 'ints', value: dilations },
    pads: { type: 'ints', value: pads },
    group: { type: 'int', value: intAttr(node, 'group', 1) },
    kernel_shape: { type: 'ints', value: kernel },
  };
  const [dx] = b.op('Conv', [upstream[0], node.inputs[1]], attrs);
  return [dx, null, null];
};
