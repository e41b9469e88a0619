import type * as TfCore from '@tensorflow/tfjs-core';
import { type Attribute, type IrNode, type Tensor, UnsupportedOperatorError } from '@blameboard/core';
import type { Tf } from './backend.js';

/**
 * ONNX operators (NCHW, as PyTorch exports them) in terms of tfjs ops (NHWC convolutions and
 * pools). Every op here is differentiable with tfjs's registered gradients, so `tf.grad` over the
 * executor gives an autodiff reference that shares no code with the compiled gradient graphs.
 */

type T = TfCore.Tensor;

/** What an op implementation sees: its node, runtime inputs, and constant inputs (shapes, axes, pads). */
export interface OpContext {
  tf: Tf;
  node: IrNode;
  opset: number;
  /** Runtime input i as a float32 tensor ('' inputs → undefined). */
  input(i: number): T | undefined;
  /** Input i when it is a constant (initializer or Constant node), else undefined. */
  constant(i: number): Tensor | undefined;
}

/** One tensor, or one per node output (Split). */
export type OpImpl = (c: OpContext) => T | T[];

// ---------------------------------------------------------------- attributes and helpers

function attr(node: IrNode, name: string): Attribute | undefined {
  return node.attributes[name];
}

export function intAttr(node: IrNode, name: string, dflt: number): number {
  const a = attr(node, name);
  return a && a.type === 'int' ? a.value : dflt;
}

export function floatAttr(node: IrNode, name: string, dflt: number): number {
  const a = attr(node, name);
  if (a && a.type === 'float') return a.value;
  if (a && a.type === 'int') return a.value;
  return dflt;
}

export function intsAttr(node: IrNode, name: string): number[] | undefined {
  const a = attr(node, name);
  return a && a.type === 'ints' ? a.value : undefined;
}

function stringAttr(node: IrNode, name: string, dflt: string): string {
  const a = attr(node, name);
  return a && a.type === 'string' ? a.value : dflt;
}

function unsupported(node: IrNode, why: string): never {
  throw new UnsupportedOperatorError([{ opType: node.opType, name: node.name }], `unsupported in the tfjs executor (${why})`);
}

function required(c: OpContext, i: number): T {
  const t = c.input(i);
  if (!t) unsupported(c.node, `input ${i} missing`);
  return t;
}

/** Integer values of a constant input (shape, axes, pads). Dynamic ones must be constant-folded first. */
function constInts(c: OpContext, i: number): number[] | undefined {
  if (!c.node.inputs[i]) return undefined;
  const t = c.constant(i);
  if (!t) unsupported(c.node, `input ${i} ('${c.node.inputs[i]}') must be a constant`);
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/**
 * Inserts d−1 zeros between neighbours along `axis` (length n → (n−1)d+1): dilated kernels and
 * the strided input of a transposed convolution. Built from pad/reshape/slice so it has gradients.
 */
function dilateAxis(tf: Tf, t: T, axis: number, d: number): T {
  if (d === 1) return t;
  const shape = t.shape;
  const n = shape[axis];
  const expanded = tf.expandDims(t, axis + 1);
  const pads: [number, number][] = expanded.shape.map((_, i) => (i === axis + 1 ? [0, d - 1] : [0, 0]));
  const merged = tf.reshape(tf.pad(expanded, pads), [...shape.slice(0, axis), n * d, ...shape.slice(axis + 1)]);
  const size = merged.shape.map((s, i) => (i === axis ? (n - 1) * d + 1 : s));
  return tf.slice(merged, merged.shape.map(() => 0), size);
}

/** Pads (or, for negative amounts, crops) axis by axis. */
function padOrCrop(tf: Tf, t: T, pads: [number, number][], value = 0): T {
  const crop = pads.some(([a, b]) => a < 0 || b < 0);
  let out = pads.some(([a, b]) => a > 0 || b > 0)
    ? tf.pad(t, pads.map(([a, b]) => [Math.max(a, 0), Math.max(b, 0)] as [number, number]), value)
    : t;
  if (crop) {
    const begin = pads.map(([a]) => Math.max(-a, 0));
    const size = out.shape.map((s, i) => s - begin[i] - Math.max(-pads[i][1], 0));
    out = tf.slice(out, begin, size);
  }
  return out;
}

/** Kernel, strides, dilations and [begin, end] pads per spatial axis (2 axes; 1-D ops get a unit H). */
interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  pads: [number, number][];
}

function windowOf(node: IrNode, spatialIn: number[], kernel: number[], ceil = false): Window {
  const r = spatialIn.length;
  const strides = intsAttr(node, 'strides') ?? new Array(r).fill(1);
  const dilations = intsAttr(node, 'dilations') ?? new Array(r).fill(1);
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  const given = intsAttr(node, 'pads') ?? new Array(2 * r).fill(0);
  const pads: [number, number][] = [];
  for (let i = 0; i < r; i++) {
    const keff = (kernel[i] - 1) * dilations[i] + 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const out = Math.ceil(spatialIn[i] / strides[i]);
      const total = Math.max(0, (out - 1) * strides[i] + keff - spatialIn[i]);
      const small = Math.floor(total / 2);
      pads.push(autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small]);
    } else if (autoPad === 'VALID') {
      pads.push([0, 0]);
    } else if (autoPad === 'NOTSET') {
      pads.push([given[i], given[i + r]]);
    } else {
      unsupported(node, `auto_pad=${autoPad}`);
    }
    if (ceil) {
      // Extra end padding so 'valid' pooling yields the ceil_mode size; as in PyTorch and
      // onnxruntime, a last window that would start in the end padding is dropped.
      const [b, e] = pads[i];
      const span = spatialIn[i] + b + e - keff;
      let out = Math.ceil(span / strides[i]) + 1;
      if ((out - 1) * strides[i] >= spatialIn[i] + b) out--;
      pads[i] = [b, e + Math.max(0, (out - 1) * strides[i] + keff - (spatialIn[i] + b + e))];
    }
  }
  return { kernel, strides, dilations, pads };
}

/** Brings a 1-D (rank 3) op to 2-D by a unit H axis; rank 4 passes. */
function as2d(node: IrNode, x: T, tf: Tf): { x: T; back: (y: T) => T } {
  if (x.rank === 4) return { x, back: (y) => y };
  if (x.rank === 3) return { x: tf.expandDims(x, 2), back: (y) => tf.squeeze(y, [2]) };
  unsupported(node, `${x.rank - 2}-D spatial input`);
}

const lift2d = (w: Window): Window =>
  w.kernel.length === 2
    ? w
    : { kernel: [1, w.kernel[0]], strides: [1, w.strides[0]], dilations: [1, w.dilations[0]], pads: [[0, 0], w.pads[0]] };

const toNhwc = (tf: Tf, x: T) => tf.transpose(x, [0, 2, 3, 1]);
const toNchw = (tf: Tf, x: T) => tf.transpose(x, [0, 3, 1, 2]);

// ---------------------------------------------------------------- convolution

/** y = conv(x, f) in NHWC, f [kh, kw, in/g, out], stride s, dilation through a zero-dilated kernel. */
function groupedConv(tf: Tf, x: T, f: T, group: number, strides: number[], dilations: number[]): T {
  // tfjs has no gradient for dilated conv2d; a zero-dilated kernel is the same function.
  const fd = dilateAxis(tf, dilateAxis(tf, f, 0, dilations[0]), 1, dilations[1]);
  const s: [number, number] = [strides[0], strides[1]];
  if (group === 1) return tf.conv2d(x as TfCore.Tensor4D, fd as TfCore.Tensor4D, s, 'valid');
  const xs = tf.split(x, group, 3);
  const fs = tf.split(fd, group, 3);
  return tf.concat(
    xs.map((xi, i) => tf.conv2d(xi as TfCore.Tensor4D, fs[i] as TfCore.Tensor4D, s, 'valid')),
    3,
  );
}

const conv: OpImpl = (c) => {
  const { tf, node } = c;
  const x0 = required(c, 0);
  const w0 = required(c, 1);
  const b = c.input(2);
  const { x, back } = as2d(node, x0, tf);
  const w = w0.rank === 3 ? tf.expandDims(w0, 2) : w0; // [M, C/g, kh, kw]
  const group = intAttr(node, 'group', 1);
  const win = lift2d(windowOf(node, x0.shape.slice(2), intsAttr(node, 'kernel_shape') ?? w0.shape.slice(2)));
  const xh = padOrCrop(tf, toNhwc(tf, x), [[0, 0], win.pads[0], win.pads[1], [0, 0]]);
  const f = tf.transpose(w, [2, 3, 1, 0]);
  let y = toNchw(tf, groupedConv(tf, xh, f, group, win.strides, win.dilations));
  if (b) y = tf.add(y, tf.reshape(b, [1, -1, 1, 1]));
  return back(y);
};

/**
 * ConvTranspose as a stride-1 convolution of the zero-dilated input with the flipped kernel
 * (the textbook identity), which needs no Conv2DBackpropInput kernel and supports dilations.
 */
const convTranspose: OpImpl = (c) => {
  const { tf, node } = c;
  const x0 = required(c, 0);
  const w0 = required(c, 1); // [C, M/g, kh, kw]
  const b = c.input(2);
  const { x, back } = as2d(node, x0, tf);
  const w = w0.rank === 3 ? tf.expandDims(w0, 2) : w0;
  const group = intAttr(node, 'group', 1);
  const inSpatial = x0.shape.slice(2);
  const r = inSpatial.length;
  const kernel = intsAttr(node, 'kernel_shape') ?? w0.shape.slice(2);
  const strides = intsAttr(node, 'strides') ?? new Array(r).fill(1);
  const dilations = intsAttr(node, 'dilations') ?? new Array(r).fill(1);
  const outPad = intsAttr(node, 'output_padding') ?? new Array(r).fill(0);
  const outShape = intsAttr(node, 'output_shape');
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  const given = intsAttr(node, 'pads') ?? new Array(2 * r).fill(0);
  const pads: [number, number][] = [];
  for (let i = 0; i < r; i++) {
    const keff = (kernel[i] - 1) * dilations[i] + 1;
    const full = strides[i] * (inSpatial[i] - 1) + outPad[i] + keff;
    const target = outShape ? outShape[outShape.length - r + i] : autoPad.startsWith('SAME') ? inSpatial[i] * strides[i] : undefined;
    if (target !== undefined) {
      const total = full - target;
      const half = Math.floor(total / 2);
      pads.push(autoPad === 'SAME_LOWER' ? [total - half, half] : [half, total - half]);
    } else {
      pads.push(autoPad === 'VALID' ? [0, 0] : [given[i], given[i + r]]);
    }
  }
  const win = lift2d({ kernel, strides, dilations, pads });
  const k2 = win.kernel.map((k, i) => (k - 1) * win.dilations[i] + 1);
  let xh = toNhwc(tf, x);
  xh = dilateAxis(tf, dilateAxis(tf, xh, 1, win.strides[0]), 2, win.strides[1]);
  const op2 = outPad.length === 2 ? outPad : [0, outPad[0]];
  xh = padOrCrop(tf, xh, [
    [0, 0],
    [k2[0] - 1 - win.pads[0][0], k2[0] - 1 - win.pads[0][1] + op2[0]],
    [k2[1] - 1 - win.pads[1][0], k2[1] - 1 - win.pads[1][1] + op2[1]],
    [0, 0],
  ]);
  // [C, M/g, kh, kw] → flipped [kh, kw, C, M/g]; group j maps input block j to output block j.
  const f = tf.reverse(tf.transpose(w, [2, 3, 0, 1]), [0, 1]);
  let y: T;
  if (group === 1) {
    y = groupedConv(tf, xh, f, 1, [1, 1], win.dilations);
  } else {
    const xs = tf.split(xh, group, 3);
    const fs = tf.split(f, group, 2);
    y = tf.concat(xs.map((xi, i) => groupedConv(tf, xi, fs[i], 1, [1, 1], win.dilations)), 3);
  }
  y = toNchw(tf, y);
  if (b) y = tf.add(y, tf.reshape(b, [1, -1, 1, 1]));
  return back(y);
};

// ---------------------------------------------------------------- pooling

function poolWindow(c: OpContext, x0: T): Window {
  const { node } = c;
  if (c.node.outputs.length > 1 && c.node.outputs[1]) unsupported(node, 'MaxPool Indices output');
  const kernel = intsAttr(node, 'kernel_shape');
  if (!kernel) unsupported(node, 'kernel_shape missing');
  const win = lift2d(windowOf(node, x0.shape.slice(2), kernel, intAttr(node, 'ceil_mode', 0) === 1));
  if (win.dilations.some((d) => d !== 1)) unsupported(node, 'dilated pooling');
  return win;
}

const maxPool: OpImpl = (c) => {
  const { tf } = c;
  const x0 = required(c, 0);
  const win = poolWindow(c, x0);
  const { x, back } = as2d(c.node, x0, tf);
  const xh = padOrCrop(tf, toNhwc(tf, x), [[0, 0], win.pads[0], win.pads[1], [0, 0]], -Infinity);
  const y = tf.maxPool(xh as TfCore.Tensor4D, win.kernel as [number, number], win.strides as [number, number], 'valid');
  return back(toNchw(tf, y));
};

/**
 * AveragePool = window sums / window counts. count_include_pad=0 (the default) counts only real
 * inputs; 1 also counts explicit pads; ceil_mode's extra end positions never count (onnxruntime).
 */
const averagePool: OpImpl = (c) => {
  const { tf, node } = c;
  const x0 = required(c, 0);
  const win = poolWindow(c, x0);
  const includePad = intAttr(node, 'count_include_pad', 0) === 1;
  const explicit = lift2d(windowOf(node, x0.shape.slice(2), intsAttr(node, 'kernel_shape')!, false)).pads;
  const { x, back } = as2d(node, x0, tf);
  const xh = toNhwc(tf, x);
  const kernel = win.kernel as [number, number];
  const strides = win.strides as [number, number];
  const area = kernel[0] * kernel[1];
  const sums = tf.mul(
    tf.avgPool(padOrCrop(tf, xh, [[0, 0], win.pads[0], win.pads[1], [0, 0]]) as TfCore.Tensor4D, kernel, strides, 'valid'),
    area,
  );
  const [, h, w] = xh.shape;
  let mask: T = tf.ones([1, h, w, 1]);
  let maskPads: [number, number][] = win.pads;
  if (includePad) {
    mask = padOrCrop(tf, mask, [[0, 0], explicit[0], explicit[1], [0, 0]], 1);
    maskPads = win.pads.map(([b, e], i) => [b - explicit[i][0], e - explicit[i][1]] as [number, number]);
  }
  mask = padOrCrop(tf, mask, [[0, 0], maskPads[0], maskPads[1], [0, 0]], 0);
  const counts = tf.round(tf.mul(tf.avgPool(mask as TfCore.Tensor4D, kernel, strides, 'valid'), area));
  return back(toNchw(tf, tf.div(sums, counts)));
};

const globalPool =
  (kind: 'mean' | 'max'): OpImpl =>
  (c) => {
    const x = required(c, 0);
    const axes = x.shape.map((_, i) => i).slice(2);
    return kind === 'mean' ? c.tf.mean(x, axes, true) : c.tf.max(x, axes, true);
  };

// ---------------------------------------------------------------- dense and normalisation

const gemm: OpImpl = (c) => {
  const { tf, node } = c;
  const a = required(c, 0);
  const b = required(c, 1);
  const bias = c.input(2);
  const alpha = floatAttr(node, 'alpha', 1);
  const beta = floatAttr(node, 'beta', 1);
  let y = tf.matMul(a, b, intAttr(node, 'transA', 0) === 1, intAttr(node, 'transB', 0) === 1);
  if (alpha !== 1) y = tf.mul(y, alpha);
  if (bias) y = tf.add(y, beta === 1 ? bias : tf.mul(bias, beta));
  return y;
};

const matMul: OpImpl = (c) => {
  const { tf } = c;
  let a = required(c, 0);
  let b = required(c, 1);
  const squeezeA = a.rank === 1;
  const squeezeB = b.rank === 1;
  if (squeezeA) a = tf.expandDims(a, 0);
  if (squeezeB) b = tf.expandDims(b, 1);
  let y = tf.matMul(a, b);
  if (squeezeA) y = tf.squeeze(y, [y.rank - 2]);
  if (squeezeB) y = tf.squeeze(y, [y.rank - 1]);
  return y;
};

const batchNorm: OpImpl = (c) => {
  const { tf, node } = c;
  if (intAttr(node, 'training_mode', 0) === 1) unsupported(node, 'training_mode=1');
  const x = required(c, 0);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => required(c, i));
  const eps = floatAttr(node, 'epsilon', 1e-5);
  const shape = [1, -1, ...new Array(Math.max(0, x.rank - 2)).fill(1)];
  const inv = tf.div(scale, tf.sqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(tf.sub(x, tf.reshape(mean, shape)), tf.reshape(inv, shape)), tf.reshape(bias, shape));
};

// ---------------------------------------------------------------- shapes

const flatten: OpImpl = (c) => {
  const x = required(c, 0);
  const axis = normAxis(intAttr(c.node, 'axis', 1), x.rank);
  return c.tf.reshape(x, [prod(x.shape.slice(0, axis)), prod(x.shape.slice(axis))]);
};

const reshape: OpImpl = (c) => {
  const x = required(c, 0);
  const target = constInts(c, 1) ?? intsAttr(c.node, 'shape');
  if (!target) unsupported(c.node, 'shape missing');
  const allowZero = intAttr(c.node, 'allowzero', 0) === 1;
  return c.tf.reshape(
    x,
    target.map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d)),
  );
};

const transpose: OpImpl = (c) => {
  const x = required(c, 0);
  const perm = intsAttr(c.node, 'perm') ?? x.shape.map((_, i) => x.rank - 1 - i);
  return c.tf.transpose(x, perm);
};

/** axes: an attribute before opset 13, an input from 13 on. */
const axesOf = (c: OpContext): number[] | undefined => intsAttr(c.node, 'axes') ?? constInts(c, 1);

const squeeze: OpImpl = (c) => {
  const x = required(c, 0);
  const axes = axesOf(c);
  return c.tf.squeeze(x, axes?.map((a) => normAxis(a, x.rank)));
};

const unsqueeze: OpImpl = (c) => {
  const x = required(c, 0);
  const axes = axesOf(c);
  if (!axes) unsupported(c.node, 'axes missing');
  const rank = x.rank + axes.length;
  const sorted = axes.map((a) => normAxis(a, rank)).sort((a, b) => a - b);
  const shape = [...x.shape];
  for (const a of sorted) shape.splice(a, 0, 1);
  return c.tf.reshape(x, shape);
};

const concat: OpImpl = (c) => {
  const parts = c.node.inputs.map((_, i) => required(c, i));
  return c.tf.concat(parts, normAxis(intAttr(c.node, 'axis', 0), parts[0].rank));
};

/** Pad: constant (negative pads crop), reflect and edge; pads/value are attributes before opset 11. */
const pad: OpImpl = (c) => {
  const { tf, node } = c;
  const x = required(c, 0);
  const r = x.rank;
  const raw = intsAttr(node, 'pads') ?? constInts(c, 1);
  if (!raw) unsupported(node, 'pads missing');
  const value = node.attributes.value ? floatAttr(node, 'value', 0) : c.node.inputs[2] ? Number(c.constant(2)?.data[0] ?? NaN) : 0;
  if (Number.isNaN(value)) unsupported(node, 'constant_value must be a constant');
  const axes = (c.node.inputs[3] ? constInts(c, 3)! : x.shape.map((_, i) => i)).map((a) => normAxis(a, r));
  const pads: [number, number][] = x.shape.map(() => [0, 0]);
  axes.forEach((a, i) => (pads[a] = [raw[i], raw[i + axes.length]]));
  const mode = stringAttr(node, 'mode', 'constant');
  if (mode === 'constant') return padOrCrop(tf, x, pads, value);
  if (mode !== 'reflect' && mode !== 'edge') unsupported(node, `mode=${mode}`);
  if (pads.some(([a, b]) => a < 0 || b < 0)) unsupported(node, `negative pads with mode=${mode}`);
  let y = x;
  pads.forEach(([before, after], axis) => {
    if (before === 0 && after === 0) return;
    const n = y.shape[axis];
    // One slice of width 1 per padded position, gathered by concat (differentiable everywhere).
    const at = (i: number) => tf.slice(y, y.shape.map((_, k) => (k === axis ? i : 0)), y.shape.map((s, k) => (k === axis ? 1 : s)));
    const src = (i: number) => (mode === 'edge' ? Math.min(Math.max(i, 0), n - 1) : i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
    const head = Array.from({ length: before }, (_, j) => at(src(j - before)));
    const tail = Array.from({ length: after }, (_, j) => at(src(n + j)));
    y = tf.concat([...head, y, ...tail], axis);
  });
  return y;
};

// ---------------------------------------------------------------- softmax

/** Softmax/LogSoftmax: opset < 13 coerces to 2-D at `axis` (default 1), 13+ works on one axis (default −1). */
const softmaxLike =
  (log: boolean): OpImpl =>
  (c) => {
    const { tf, node } = c;
    const x = required(c, 0);
    const fn = (t: T) => (log ? tf.logSoftmax(t) : tf.softmax(t));
    if (c.opset < 13) {
      const axis = normAxis(intAttr(node, 'axis', 1), x.rank);
      const flat = tf.reshape(x, [prod(x.shape.slice(0, axis)), prod(x.shape.slice(axis))]);
      return tf.reshape(fn(flat), x.shape);
    }
    const axis = normAxis(intAttr(node, 'axis', -1), x.rank);
    if (axis === x.rank - 1) return fn(x);
    const perm = x.shape.map((_, i) => i);
    [perm[axis], perm[x.rank - 1]] = [perm[x.rank - 1], perm[axis]];
    return tf.transpose(fn(tf.transpose(x, perm)), perm);
  };

// ---------------------------------------------------------------- elementwise

/** Elu with any α as relu(x) + α(exp(−relu(−x)) − 1): tf.elu has α = 1 only, and a `where` on x > 0 has no gradient. */
const elu: OpImpl = (c) => {
  const { tf } = c;
  const x = required(c, 0);
  const alpha = floatAttr(c.node, 'alpha', 1);
  if (alpha === 1) return tf.elu(x);
  const negative = tf.neg(tf.relu(tf.neg(x)));
  return tf.add(tf.relu(x), tf.mul(tf.sub(tf.exp(negative), 1), alpha));
};

const clip: OpImpl = (c) => {
  const x = required(c, 0);
  const lo = c.opset < 11 ? floatAttr(c.node, 'min', -Infinity) : (constScalarF(c, 1) ?? -Infinity);
  const hi = c.opset < 11 ? floatAttr(c.node, 'max', Infinity) : (constScalarF(c, 2) ?? Infinity);
  return c.tf.clipByValue(x, Math.max(lo, -3.4e38), Math.min(hi, 3.4e38));
};

function constScalarF(c: OpContext, i: number): number | undefined {
  if (!c.node.inputs[i]) return undefined;
  const t = c.constant(i);
  if (!t) unsupported(c.node, `input ${i} must be a constant`);
  return Number(t.data[0]);
}

/** Slice with any steps, from pads, slices, reshapes and reversals, which all have tfjs gradients. */
const slice: OpImpl = (c) => {
  const { tf, node } = c;
  let x = required(c, 0);
  const starts = constInts(c, 1);
  const ends = constInts(c, 2);
  if (!starts || !ends) unsupported(node, 'starts and ends missing');
  const axes = constInts(c, 3) ?? starts.map((_, i) => i);
  const steps = constInts(c, 4) ?? starts.map(() => 1);
  axes.forEach((a0, i) => {
    const axis = normAxis(a0, x.rank);
    const dim = x.shape[axis];
    let step = steps[i];
    const clampTo = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    let begin = starts[i] < 0 ? starts[i] + dim : starts[i];
    let end = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (step > 0) [begin, end] = [clampTo(begin, 0, dim), clampTo(end, 0, dim)];
    else [begin, end] = [clampTo(begin, -1, dim - 1), clampTo(end, -1, dim - 1)];
    const count = Math.max(0, Math.ceil((end - begin) / step));
    if (step < 0) {
      x = tf.reverse(x, axis);
      begin = dim - 1 - begin;
      step = -step;
    }
    const span = Math.min(count * step, dim - begin);
    const along = (size: number) => x.shape.map((d, k) => (k === axis ? size : d));
    let part = tf.slice(x, x.shape.map((_, k) => (k === axis ? begin : 0)), along(span));
    if (step > 1) {
      part = padOrCrop(tf, part, part.shape.map((_, k) => (k === axis ? [0, count * step - span] : [0, 0])) as [number, number][]);
      const grouped = tf.reshape(part, [...x.shape.slice(0, axis), count, step, ...x.shape.slice(axis + 1)]);
      const first = tf.slice(grouped, grouped.shape.map(() => 0), grouped.shape.map((d, k) => (k === axis + 1 ? 1 : d)));
      part = tf.reshape(first, along(count));
    }
    x = part;
  });
  return x;
};

/** Split into the sizes of input 1, or `num_outputs` (else one per output) equal parts, the last smaller. */
const split: OpImpl = (c) => {
  const { tf, node } = c;
  const x = required(c, 0);
  const axis = normAxis(intAttr(node, 'axis', 0), x.rank);
  const dim = x.shape[axis];
  let sizes = constInts(c, 1);
  if (!sizes) {
    const parts = intAttr(node, 'num_outputs', node.outputs.length);
    const size = Math.ceil(dim / parts);
    sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(size, dim - i * size)));
  }
  return tf.split(x, sizes, axis);
};

/** ReduceMean with the axes of its input (opset 18) or attribute; none = every axis. */
const reduceMean: OpImpl = (c) => {
  const { tf, node } = c;
  const x = required(c, 0);
  const given = intsAttr(node, 'axes') ?? constInts(c, 1) ?? [];
  if (given.length === 0 && intAttr(node, 'noop_with_empty_axes', 0) === 1) return x;
  const axes = given.length > 0 ? given.map((a) => normAxis(a, x.rank)) : x.shape.map((_, i) => i);
  return tf.mean(x, axes, intAttr(node, 'keepdims', 1) === 1);
};

/**
 * Resize of the two spatial axes of an NCHW tensor with tf.image's kernels, in the combinations
 * they implement: nearest (asymmetric + floor; half_pixel or align_corners + round_prefer_ceil) and
 * linear (asymmetric, half_pixel, pytorch_half_pixel, align_corners). tfjs 4.22's
 * ResizeBilinearGrad ignores halfPixelCenters, so tf.grad is wrong for half-pixel linear resizes
 * although this forward is right: hold those gradients against onnxruntime's interpolation instead.
 */
const resize: OpImpl = (c) => {
  const { tf, node } = c;
  const x = required(c, 0);
  if (x.rank !== 4) unsupported(node, `rank-${x.rank} input`);
  const scalesIn = c.node.inputs[2] ? c.constant(2) : undefined;
  const sizesIn = c.node.inputs[3] ? c.constant(3) : undefined;
  const axes = (intsAttr(node, 'axes') ?? [0, 1, 2, 3]).map((ax) => normAxis(ax, 4));
  const full = (values: number[], keep: (axis: number) => number) => [0, 1, 2, 3].map((ax) => (axes.includes(ax) ? values[axes.indexOf(ax)] : keep(ax)));
  let out: number[];
  if (sizesIn && sizesIn.data.length > 0) {
    out = full(Array.from(sizesIn.data as ArrayLike<number | bigint>, Number), (ax) => x.shape[ax]);
  } else if (scalesIn) {
    const scales = full(Array.from(scalesIn.data as ArrayLike<number>, Number), () => 1);
    out = x.shape.map((d, ax) => Math.floor(d * Math.fround(scales[ax])));
  } else unsupported(node, 'neither scales nor sizes');
  if (out[0] !== x.shape[0] || out[1] !== x.shape[1]) unsupported(node, 'resizing the batch or channel axis');
  const size: [number, number] = [out[2], out[3]];
  const mode = stringAttr(node, 'mode', 'nearest');
  const coordinates = stringAttr(node, 'coordinate_transformation_mode', 'half_pixel');
  const nearest = stringAttr(node, 'nearest_mode', 'round_prefer_floor');
  const images = toNhwc(tf, x) as TfCore.Tensor4D;
  const halfPixel = coordinates === 'half_pixel' || (coordinates === 'pytorch_half_pixel' && size.every((d) => d > 1));
  const alignCorners = coordinates === 'align_corners';
  if (!halfPixel && !alignCorners && coordinates !== 'asymmetric') unsupported(node, `coordinate_transformation_mode '${coordinates}'`);
  if (mode === 'linear') return toNchw(tf, tf.image.resizeBilinear(images, size, alignCorners, halfPixel));
  if (mode !== 'nearest') unsupported(node, `mode '${mode}'`);
  if ((coordinates === 'asymmetric' && nearest !== 'floor') || (coordinates !== 'asymmetric' && nearest !== 'round_prefer_ceil')) {
    unsupported(node, `nearest_mode '${nearest}' with '${coordinates}' coordinates`);
  }
  return toNchw(tf, tf.image.resizeNearestNeighbor(images, size, alignCorners, halfPixel));
};

/** HardSigmoid max(0, min(1, αx + β)). */
const hardSigmoid = (tf: Tf, x: T, alpha: number, beta: number): T => tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 1);

/** GELU: 0.5x(1 + erf(x/√2)), or its tanh approximation. */
const gelu: OpImpl = (c) => {
  const { tf, node } = c;
  const x = required(c, 0);
  if (stringAttr(node, 'approximate', 'none') === 'tanh') {
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  }
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
};

const unary =
  (f: (tf: Tf, x: T, node: IrNode) => T): OpImpl =>
  (c) =>
    f(c.tf, required(c, 0), c.node);

const binary =
  (f: (tf: Tf, a: T, b: T) => T): OpImpl =>
  (c) =>
    f(c.tf, required(c, 0), required(c, 1));

export const OPS: Record<string, OpImpl> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  Gemm: gemm,
  MatMul: matMul,
  Add: binary((tf, a, b) => tf.add(a, b)),
  Sub: binary((tf, a, b) => tf.sub(a, b)),
  Mul: binary((tf, a, b) => tf.mul(a, b)),
  Div: binary((tf, a, b) => tf.div(a, b)),
  Relu: unary((tf, x) => tf.relu(x)),
  LeakyRelu: unary((tf, x, n) => tf.leakyRelu(x, floatAttr(n, 'alpha', 0.01))),
  Sigmoid: unary((tf, x) => tf.sigmoid(x)),
  Tanh: unary((tf, x) => tf.tanh(x)),
  Softplus: unary((tf, x) => tf.softplus(x)),
  Elu: elu,
  Clip: clip,
  HardSigmoid: unary((tf, x, n) => hardSigmoid(tf, x, floatAttr(n, 'alpha', 0.2), floatAttr(n, 'beta', 0.5))),
  HardSwish: unary((tf, x) => tf.mul(x, hardSigmoid(tf, x, 1 / 6, 0.5))),
  Erf: unary((tf, x) => tf.erf(x)),
  Gelu: gelu,
  Sum: (c) => c.node.inputs.map((_, i) => required(c, i)).reduce((a, b) => c.tf.add(a, b)),
  Neg: unary((tf, x) => tf.neg(x)),
  Exp: unary((tf, x) => tf.exp(x)),
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalPool('mean'),
  GlobalMaxPool: globalPool('max'),
  BatchNormalization: batchNorm,
  Flatten: flatten,
  Reshape: reshape,
  Transpose: transpose,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Concat: concat,
  Pad: pad,
  Slice: slice,
  Split: split,
  ReduceMean: reduceMean,
  Resize: resize,
  Cast: unary((_tf, x, n) => {
    if (![1, 10, 11, 16].includes(intAttr(n, 'to', 1))) unsupported(n, 'a cast to a non-float type');
    return x;
  }),
  Identity: unary((_tf, x) => x),
  Dropout: unary((_tf, x) => x),
  Softmax: softmaxLike(false),
  LogSoftmax: softmaxLike(true),
};
