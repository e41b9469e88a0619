import { ModelLoadError } from '../errors.js';
import type { DType, Tensor } from '../tensor.js';
import type { Attribute, Dim, IrGraph, IrNode, IrValue } from './types.js';

/** A dimension nothing can pin down (not the batch). */
export const UNKNOWN_DIM = '?';

export interface InferContext {
  value(name: string): IrValue | undefined;
  constant(name: string): Tensor | undefined;
  opsetVersion: number;
}

/**
 * Fills `graph.values` with the dtype and shape of every graph input, initializer and node
 * output, and refreshes `graph.outputs` from it. The batch stays the symbol 'N'. Operators it
 * does not know leave their outputs (and whatever depends on them) out of `values`, so the
 * compiler's extra ops (Where, Greater, …) do not break it; `readOnnx` has already refused
 * graphs with such operators.
 */
export function inferShapes(graph: IrGraph): void {
  const values = new Map<string, IrValue>();
  for (const v of graph.inputs) values.set(v.name, { name: v.name, dtype: v.dtype, shape: [...v.shape] });
  for (const [name, t] of graph.initializers) values.set(name, { name, dtype: t.dtype, shape: [...t.shape] });
  const ctx: InferContext = {
    value: (n) => values.get(n),
    constant: (n) => graph.initializers.get(n),
    opsetVersion: graph.opsetVersion,
  };
  for (const node of graph.nodes) {
    const out = inferNode(node, ctx);
    if (!out) continue;
    out.forEach((v, i) => {
      const name = node.outputs[i];
      if (v && name) values.set(name, { ...v, name });
    });
  }
  graph.values = values;
  graph.outputs = graph.outputs.map((declared) => mergeDeclared(declared, values.get(declared.name)));
}

function mergeDeclared(declared: IrValue, inferred: IrValue | undefined): IrValue {
  if (!inferred) return declared;
  if (declared.shape.length !== inferred.shape.length) return { ...inferred };
  const shape = inferred.shape.map((d, i) => (d === UNKNOWN_DIM ? declared.shape[i] : d));
  return { name: declared.name, dtype: inferred.dtype, shape };
}

type Out = Omit<IrValue, 'name'> | undefined;

const SAME_SHAPE_UNARY = new Set([
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Softplus', 'Softsign', 'Elu', 'Selu', 'Celu', 'HardSigmoid',
  'HardSwish', 'Identity', 'Softmax', 'LogSoftmax', 'Abs', 'Neg', 'Exp', 'Log', 'Sqrt', 'Reciprocal',
  'Sign', 'Floor', 'Ceil', 'Round', 'Erf', 'Sin', 'Cos', 'Clip', 'LRN', 'Gelu', 'PRelu',
  'InstanceNormalization', 'LayerNormalization',
]);
const BROADCAST_BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean']);
const COMPARISONS = new Set(['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'And', 'Or', 'Xor']);

/** Output dtype/shape per output of one node; undefined when the op or an input is unknown. */
export function inferNode(node: IrNode, ctx: InferContext): Out[] | undefined {
  if (node.opType === 'Constant') {
    const t = constantValue(node);
    return t ? [{ dtype: t.dtype, shape: [...t.shape] }] : undefined;
  }
  const inputs = node.inputs.map((n) => (n === '' ? undefined : ctx.value(n)));
  const x = inputs[0];
  if (!x) return undefined;
  const a = node.attributes;
  const op = node.opType;
  const where = () => `${op} node '${node.name}'`;

  if (SAME_SHAPE_UNARY.has(op)) return [{ dtype: x.dtype, shape: [...x.shape] }];
  if (BROADCAST_BINARY.has(op) || COMPARISONS.has(op)) {
    let shape = x.shape;
    for (const other of inputs.slice(1)) {
      if (!other) return undefined;
      shape = broadcast(shape, other.shape, where);
    }
    return [{ dtype: COMPARISONS.has(op) ? 'bool' : x.dtype, shape }];
  }
  if (op === 'Not' || op === 'IsNaN' || op === 'IsInf') return [{ dtype: 'bool', shape: [...x.shape] }];
  if (op === 'Where') {
    if (!inputs[1] || !inputs[2]) return undefined;
    return [{ dtype: inputs[1].dtype, shape: broadcast(broadcast(x.shape, inputs[1].shape, where), inputs[2].shape, where) }];
  }

  switch (op) {
    case 'Dropout':
      return [{ dtype: x.dtype, shape: [...x.shape] }, { dtype: 'bool', shape: [...x.shape] }];
    case 'Cast':
      return [{ dtype: castTarget(intAttr(a, 'to', 1)), shape: [...x.shape] }];
    case 'BatchNormalization': {
      const c = x.shape[1] ?? UNKNOWN_DIM;
      return [{ dtype: x.dtype, shape: [...x.shape] }, { dtype: x.dtype, shape: [c] }, { dtype: x.dtype, shape: [c] }];
    }
    case 'Conv':
      return [conv(x, inputs[1], a, where)];
    case 'ConvTranspose':
      return [convTranspose(x, inputs[1], a, where)];
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool': {
      const out = pool(x, a, where);
      return [out, { dtype: 'int64', shape: out.shape }];
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
    case 'GlobalLpPool':
      return [{ dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...x.shape.slice(2).map(() => 1)] }];
    case 'Gemm':
      return [gemm(x, inputs[1], a, where)];
    case 'MatMul':
      return inputs[1] ? [{ dtype: x.dtype, shape: matmul(x.shape, inputs[1].shape, where) }] : undefined;
    case 'Flatten': {
      const r = x.shape.length;
      const raw = intAttr(a, 'axis', 1);
      const axis = normAxis(raw < 0 ? raw + r : raw, r + 1, where);
      return [{ dtype: x.dtype, shape: [product(x.shape.slice(0, axis)), product(x.shape.slice(axis))] }];
    }
    case 'Reshape': {
      const shape = ctx.constant(node.inputs[1]);
      if (!shape) return undefined;
      return [{ dtype: x.dtype, shape: reshape(x.shape, ints(shape), intAttr(a, 'allowzero', 0) === 1, where) }];
    }
    case 'Transpose': {
      const r = x.shape.length;
      const perm = intsAttr(a, 'perm') ?? [...Array(r).keys()].reverse();
      if (perm.length !== r) throw new ModelLoadError(`${where()}: perm has ${perm.length} entries for a rank-${r} input`);
      return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[normAxis(p, r, where)]) }];
    }
    case 'Squeeze': {
      const axes = axesOf(node, ctx, 1);
      if (axes === null) return undefined;
      const r = x.shape.length;
      const drop = axes ? new Set(axes.map((ax) => normAxis(ax, r, where))) : new Set(x.shape.flatMap((d, i) => (d === 1 ? [i] : [])));
      for (const i of drop) {
        if (typeof x.shape[i] === 'number' && x.shape[i] !== 1) throw new ModelLoadError(`${where()}: cannot squeeze axis ${i} of size ${x.shape[i]}`);
      }
      return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !drop.has(i)) }];
    }
    case 'Unsqueeze': {
      const axes = axesOf(node, ctx, 1);
      if (!axes) return undefined;
      return [{ dtype: x.dtype, shape: unsqueeze(x.shape, axes, where) }];
    }
    case 'Concat': {
      if (inputs.some((v) => !v)) return undefined;
      const r = x.shape.length;
      const axis = normAxis(intAttr(a, 'axis', 0), r, where);
      const shape = [...x.shape];
      shape[axis] = product(inputs.map((v) => v!.shape[axis]), 'sum');
      return [{ dtype: x.dtype, shape }];
    }
    case 'Pad':
      return [pad(node, x, ctx, where)];
    case 'Shape': {
      const r = x.shape.length;
      const start = clampAxis(intAttr(a, 'start', 0), r);
      const end = clampAxis(intAttr(a, 'end', r), r);
      return [{ dtype: 'int64', shape: [Math.max(0, end - start)] }];
    }
    case 'Slice': {
      const consts = [1, 2, 3, 4].map((i) => (node.inputs[i] ? ctx.constant(node.inputs[i]) : undefined));
      if ([1, 2, 3, 4].some((i, k) => node.inputs[i] && !consts[k])) return undefined;
      const [starts, ends, axes, steps] = consts.map((t) => (t ? ints(t) : undefined));
      if (!starts || !ends) return undefined;
      return [{ dtype: x.dtype, shape: sliceShape(x.shape, starts, ends, axes, steps, where) }];
    }
    case 'Split': {
      const r = x.shape.length;
      const axis = normAxis(intAttr(a, 'axis', 0), r, where);
      const count = node.outputs.length;
      let sizes: Dim[];
      if (node.inputs[1]) {
        const t = ctx.constant(node.inputs[1]);
        if (!t) return undefined;
        sizes = ints(t);
      } else {
        const d = x.shape[axis];
        if (typeof d !== 'number') return node.outputs.map(() => ({ dtype: x.dtype, shape: x.shape.map((s, i) => (i === axis ? UNKNOWN_DIM : s)) }));
        // Equal parts, the last one smaller when the axis does not divide (opset 18).
        const part = Math.ceil(d / count);
        sizes = Array.from({ length: count }, (_, i) => Math.max(0, Math.min(part, d - i * part)));
      }
      return sizes.map((size) => ({ dtype: x.dtype, shape: x.shape.map((s, i) => (i === axis ? size : s)) }));
    }
    case 'Resize':
      return [resize(node, x, ctx, where)];
    case 'Gather': {
      const idx = inputs[1];
      if (!idx) return undefined;
      const axis = normAxis(intAttr(a, 'axis', 0), x.shape.length, where);
      return [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)] }];
    }
    case 'ReduceSum':
    case 'ReduceMean':
    case 'ReduceMax':
    case 'ReduceMin': {
      const r = x.shape.length;
      const axes = axesOf(node, ctx, op === 'ReduceSum' ? 13 : 18);
      if (axes === null) return undefined;
      const keep = intAttr(a, 'keepdims', 1) === 1;
      const set = new Set((axes && axes.length > 0 ? axes : intAttr(a, 'noop_with_empty_axes', 0) ? [] : [...Array(r).keys()]).map((ax) => normAxis(ax, r, where)));
      const shape = keep ? x.shape.map((d, i) => (set.has(i) ? 1 : d)) : x.shape.filter((_, i) => !set.has(i));
      return [{ dtype: x.dtype, shape }];
    }
    default:
      return undefined;
  }
}

// ---- helpers ------------------------------------------------------------------------------

export function constantValue(node: IrNode): Tensor | undefined {
  const a = node.attributes;
  if (a.value?.type === 'tensor') return a.value.value;
  if (a.value_float?.type === 'float') return { dtype: 'float32', shape: [], data: Float32Array.of(a.value_float.value) };
  if (a.value_floats?.type === 'floats') return { dtype: 'float32', shape: [a.value_floats.value.length], data: Float32Array.from(a.value_floats.value) };
  if (a.value_int?.type === 'int') return { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(a.value_int.value)) };
  if (a.value_ints?.type === 'ints') return { dtype: 'int64', shape: [a.value_ints.value.length], data: BigInt64Array.from(a.value_ints.value, (v) => BigInt(v)) };
  return undefined;
}

export function intAttr(a: Record<string, Attribute>, name: string, fallback: number): number {
  const v = a[name];
  return v && v.type === 'int' ? v.value : fallback;
}

export function intsAttr(a: Record<string, Attribute>, name: string): number[] | undefined {
  const v = a[name];
  return v && v.type === 'ints' ? v.value : undefined;
}

function stringAttr(a: Record<string, Attribute>, name: string, fallback: string): string {
  const v = a[name];
  return v && v.type === 'string' ? v.value : fallback;
}

/** Integer contents of a constant tensor as JS numbers (int64 clamped to the safe range). */
export function ints(t: Tensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => {
    if (typeof v === 'bigint') {
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
      if (v < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
      return Number(v);
    }
    return v;
  });
}

/**
 * Axes of Squeeze/Unsqueeze/Reduce*: an attribute before `inputFromOpset`, the second input
 * from it on. undefined = no axes given; null = given but not constant.
 */
function axesOf(node: IrNode, ctx: InferContext, inputFromOpset: number): number[] | undefined | null {
  const attr = intsAttr(node.attributes, 'axes');
  if (attr) return attr;
  if (ctx.opsetVersion < inputFromOpset) return undefined;
  const name = node.inputs[1];
  if (!name) return undefined;
  const t = ctx.constant(name);
  return t ? ints(t) : null;
}

function castTarget(to: number): DType {
  const map: Record<number, DType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 11: 'float64' };
  const d = map[to];
  if (!d) throw new ModelLoadError(`Cast to ONNX type ${to} is not supported`);
  return d;
}

function normAxis(axis: number, rank: number, where: () => string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= Math.max(rank, 1)) throw new ModelLoadError(`${where()}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

function clampAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  return Math.min(Math.max(a, 0), rank);
}

/** Product (or sum) of dims: numeric when all are, the lone symbol when the rest multiply to 1, else unknown. */
function product(dims: Dim[], mode: 'product' | 'sum' = 'product'): Dim {
  const symbols = dims.filter((d): d is string => typeof d === 'string');
  const nums = dims.filter((d): d is number => typeof d === 'number');
  if (mode === 'sum') {
    if (symbols.length === 0) return nums.reduce((s, d) => s + d, 0);
    return symbols.length === 1 && nums.every((d) => d === 0) ? symbols[0] : UNKNOWN_DIM;
  }
  const p = nums.reduce((s, d) => s * d, 1);
  if (symbols.length === 0) return p;
  if (p === 0) return 0;
  return symbols.length === 1 && p === 1 ? symbols[0] : UNKNOWN_DIM;
}

export function broadcast(a: Dim[], b: Dim[], where: () => string): Dim[] {
  const r = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const da = i < r - a.length ? 1 : a[i - (r - a.length)];
    const db = i < r - b.length ? 1 : b[i - (r - b.length)];
    if (da === db) out.push(da);
    else if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else if (typeof da === 'number' && typeof db === 'number') {
      throw new ModelLoadError(`${where()}: shapes [${a.join(',')}] and [${b.join(',')}] do not broadcast`);
    } else out.push(typeof da === 'number' ? da : typeof db === 'number' ? db : UNKNOWN_DIM);
  }
  return out;
}

function matmul(a: Dim[], b: Dim[], where: () => string): Dim[] {
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const [k1, k2] = [a2[a2.length - 1], b2[b2.length - 2]];
  if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2) {
    throw new ModelLoadError(`${where()}: inner dimensions ${k1} and ${k2} differ`);
  }
  const batch = broadcast(a2.slice(0, -2), b2.slice(0, -2), where);
  const out = [...batch, a2[a2.length - 2], b2[b2.length - 1]];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.splice(out.length - 1, 1);
  return out;
}

function gemm(a: IrValue, b: IrValue | undefined, attrs: Record<string, Attribute>, where: () => string): Out {
  if (!b) return undefined;
  if (a.shape.length !== 2 || b.shape.length !== 2) throw new ModelLoadError(`${where()}: Gemm needs 2-D inputs, got [${a.shape.join(',')}] and [${b.shape.join(',')}]`);
  const [m, ka] = intAttr(attrs, 'transA', 0) ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = intAttr(attrs, 'transB', 0) ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) {
    throw new ModelLoadError(`${where()}: inner dimensions ${ka} and ${kb} differ`);
  }
  return { dtype: a.dtype, shape: [m, n] };
}

function reshape(input: Dim[], target: number[], allowZero: boolean, where: () => string): Dim[] {
  const out: Dim[] = target.map((d, i) => (d === 0 && !allowZero ? input[i] : d));
  const minus = out.findIndex((d) => d === -1);
  if (minus >= 0) {
    // -1 = (elements of the input) / (elements of the rest); symbols cancel when they appear on both sides.
    const inSyms = input.filter((d): d is string => typeof d === 'string');
    const outSyms = out.filter((d, i): d is string => i !== minus && typeof d === 'string');
    const inNum = input.reduce<number>((p, d) => (typeof d === 'number' ? p * d : p), 1);
    const outNum = out.reduce<number>((p, d, i) => (i !== minus && typeof d === 'number' ? p * d : p), 1);
    const left = [...inSyms];
    for (const s of outSyms) {
      const k = left.indexOf(s);
      if (k >= 0) left.splice(k, 1);
      else left.push(UNKNOWN_DIM);
    }
    if (outNum === 0 || inNum % outNum !== 0) {
      throw new ModelLoadError(`${where()}: cannot reshape [${input.join(',')}] to [${target.join(',')}]`);
    }
    const n = inNum / outNum;
    out[minus] = left.length === 0 ? n : left.length === 1 && n === 1 && left[0] !== UNKNOWN_DIM ? left[0] : UNKNOWN_DIM;
  } else if (input.every((d) => typeof d === 'number') && out.every((d) => typeof d === 'number')) {
    const a = (input as number[]).reduce((p, d) => p * d, 1);
    const b = (out as number[]).reduce((p, d) => p * d, 1);
    if (a !== b) throw new ModelLoadError(`${where()}: cannot reshape [${input.join(',')}] to [${target.join(',')}]`);
  }
  return out;
}

function unsqueeze(shape: Dim[], axes: number[], where: () => string): Dim[] {
  const r = shape.length + axes.length;
  const set = new Set(axes.map((ax) => normAxis(ax, r, where)));
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < r; i++) out.push(set.has(i) ? 1 : shape[j++]);
  return out;
}

function spatialAttrs(attrs: Record<string, Attribute>, k: number) {
  return {
    strides: intsAttr(attrs, 'strides') ?? Array(k).fill(1),
    dilations: intsAttr(attrs, 'dilations') ?? Array(k).fill(1),
    pads: intsAttr(attrs, 'pads') ?? Array(2 * k).fill(0),
    autoPad: stringAttr(attrs, 'auto_pad', 'NOTSET'),
  };
}

function windowOut(inDim: Dim, kernel: number, i: number, s: ReturnType<typeof spatialAttrs>, ceil: boolean, k: number): Dim {
  if (typeof inDim !== 'number') return UNKNOWN_DIM;
  const stride = s.strides[i];
  const dk = (kernel - 1) * s.dilations[i] + 1;
  if (s.autoPad === 'SAME_UPPER' || s.autoPad === 'SAME_LOWER') return Math.ceil(inDim / stride);
  if (s.autoPad === 'VALID') return Math.floor((inDim - dk) / stride) + 1;
  const head = s.pads[i];
  const span = inDim + head + s.pads[i + k] - dk;
  if (!ceil) return Math.floor(span / stride) + 1;
  let out = Math.ceil(span / stride) + 1;
  // The last window must start inside the input or its left padding (PyTorch and onnxruntime).
  if ((out - 1) * stride >= inDim + head) out -= 1;
  return out;
}

function conv(x: IrValue, w: IrValue | undefined, attrs: Record<string, Attribute>, where: () => string): Out {
  if (!w) return undefined;
  const k = x.shape.length - 2;
  if (k < 1 || w.shape.length !== k + 2) throw new ModelLoadError(`${where()}: input [${x.shape.join(',')}] and weight [${w.shape.join(',')}] do not fit a convolution`);
  const kernel = intsAttr(attrs, 'kernel_shape') ?? w.shape.slice(2).map((d) => (typeof d === 'number' ? d : NaN));
  const group = intAttr(attrs, 'group', 1);
  const [c, wc] = [x.shape[1], w.shape[1]];
  if (typeof c === 'number' && typeof wc === 'number' && c !== wc * group) {
    throw new ModelLoadError(`${where()}: input has ${c} channels but the weight expects ${wc} × group ${group}`);
  }
  const s = spatialAttrs(attrs, k);
  const spatial = x.shape.slice(2).map((d, i) => windowOut(d, kernel[i], i, s, false, k));
  return { dtype: x.dtype, shape: [x.shape[0], w.shape[0], ...spatial] };
}

function convTranspose(x: IrValue, w: IrValue | undefined, attrs: Record<string, Attribute>, where: () => string): Out {
  if (!w) return undefined;
  const k = x.shape.length - 2;
  if (k < 1 || w.shape.length !== k + 2) throw new ModelLoadError(`${where()}: input [${x.shape.join(',')}] and weight [${w.shape.join(',')}] do not fit a transposed convolution`);
  const kernel = intsAttr(attrs, 'kernel_shape') ?? w.shape.slice(2).map((d) => (typeof d === 'number' ? d : NaN));
  const group = intAttr(attrs, 'group', 1);
  const channels = typeof w.shape[1] === 'number' ? w.shape[1] * group : UNKNOWN_DIM;
  const s = spatialAttrs(attrs, k);
  const outputPadding = intsAttr(attrs, 'output_padding') ?? Array(k).fill(0);
  const outputShape = intsAttr(attrs, 'output_shape');
  const spatial = x.shape.slice(2).map((d, i): Dim => {
    if (outputShape) return outputShape[outputShape.length - k + i];
    if (typeof d !== 'number') return UNKNOWN_DIM;
    if (s.autoPad === 'SAME_UPPER' || s.autoPad === 'SAME_LOWER') return d * s.strides[i];
    const pads = s.autoPad === 'VALID' ? [0, 0] : [s.pads[i], s.pads[i + k]];
    return s.strides[i] * (d - 1) + outputPadding[i] + (kernel[i] - 1) * s.dilations[i] + 1 - pads[0] - pads[1];
  });
  return { dtype: x.dtype, shape: [x.shape[0], channels, ...spatial] };
}

function pool(x: IrValue, attrs: Record<string, Attribute>, where: () => string): Omit<IrValue, 'name'> {
  const k = x.shape.length - 2;
  const kernel = intsAttr(attrs, 'kernel_shape');
  if (!kernel || kernel.length !== k) throw new ModelLoadError(`${where()}: kernel_shape is missing or does not match the input rank`);
  const s = spatialAttrs(attrs, k);
  const ceil = intAttr(attrs, 'ceil_mode', 0) === 1;
  const spatial = x.shape.slice(2).map((d, i) => windowOut(d, kernel[i], i, s, ceil, k));
  return { dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...spatial] };
}

/** Output dims of Slice; a symbolic axis survives only when it is taken whole. */
export function sliceShape(shape: Dim[], starts: number[], ends: number[], axesIn: number[] | undefined, stepsIn: number[] | undefined, where: () => string): Dim[] {
  const r = shape.length;
  const axes = axesIn ?? starts.map((_, i) => i);
  const steps = stepsIn ?? starts.map(() => 1);
  const out = [...shape];
  axes.forEach((ax0, i) => {
    const ax = normAxis(ax0, r, where);
    const step = steps[i];
    if (step === 0) throw new ModelLoadError(`${where()}: a Slice step is 0`);
    const dim = shape[ax];
    if (typeof dim !== 'number') {
      out[ax] = step === 1 && starts[i] === 0 && ends[i] >= Number.MAX_SAFE_INTEGER ? dim : UNKNOWN_DIM;
      return;
    }
    let b = starts[i] < 0 ? starts[i] + dim : starts[i];
    let e = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (step > 0) {
      b = Math.min(Math.max(b, 0), dim);
      e = Math.min(Math.max(e, 0), dim);
    } else {
      b = Math.min(Math.max(b, -1), dim - 1);
      e = Math.min(Math.max(e, -1), dim - 1);
    }
    out[ax] = Math.max(0, Math.ceil((e - b) / step));
  });
  return out;
}

/** Resize: floor(input · scale) per axis, or the given sizes (axes and keep_aspect_ratio_policy of opset 18 included). */
function resize(node: IrNode, x: IrValue, ctx: InferContext, where: () => string): Out {
  const r = x.shape.length;
  const scalesT = node.inputs[2] ? ctx.constant(node.inputs[2]) : undefined;
  const sizesT = node.inputs[3] ? ctx.constant(node.inputs[3]) : undefined;
  if ((node.inputs[2] && !scalesT) || (node.inputs[3] && !sizesT)) return undefined;
  const axes = (intsAttr(node.attributes, 'axes') ?? [...Array(r).keys()]).map((ax) => normAxis(ax, r, where));
  const shape = [...x.shape];
  if (sizesT && sizesT.data.length > 0) {
    const sizes = ints(sizesT);
    if (sizes.length !== axes.length) throw new ModelLoadError(`${where()}: sizes has ${sizes.length} entries for ${axes.length} axes`);
    const policy = stringAttr(node.attributes, 'keep_aspect_ratio_policy', 'stretch');
    if (policy === 'stretch') {
      axes.forEach((ax, i) => (shape[ax] = sizes[i]));
      return { dtype: x.dtype, shape };
    }
    if (axes.some((ax) => typeof x.shape[ax] !== 'number')) return undefined;
    const ratios = axes.map((ax, i) => sizes[i] / (x.shape[ax] as number));
    const scale = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
    axes.forEach((ax) => (shape[ax] = Math.round(scale * (x.shape[ax] as number))));
    return { dtype: x.dtype, shape };
  }
  if (!scalesT) return undefined;
  const scales = Array.from(scalesT.data as Float32Array, Number);
  if (scales.length !== axes.length) throw new ModelLoadError(`${where()}: scales has ${scales.length} entries for ${axes.length} axes`);
  axes.forEach((ax, i) => {
    const d = x.shape[ax];
    shape[ax] = typeof d === 'number' ? Math.floor(d * scales[i]) : scales[i] === 1 ? d : UNKNOWN_DIM;
  });
  return { dtype: x.dtype, shape };
}

function pad(node: IrNode, x: IrValue, ctx: InferContext, where: () => string): Out {
  const r = x.shape.length;
  let pads = intsAttr(node.attributes, 'pads');
  let axes: number[] = [...Array(r).keys()];
  if (!pads) {
    const p = node.inputs[1] ? ctx.constant(node.inputs[1]) : undefined;
    if (!p) return undefined;
    pads = ints(p);
    const axesName = node.inputs[3];
    if (axesName) {
      const t = ctx.constant(axesName);
      if (!t) return undefined;
      axes = ints(t).map((ax) => normAxis(ax, r, where));
    }
  }
  const n = axes.length;
  if (pads.length !== 2 * n) throw new ModelLoadError(`${where()}: pads has ${pads.length} entries, expected ${2 * n}`);
  const shape = [...x.shape];
  axes.forEach((ax, i) => {
    const d = shape[ax];
    shape[ax] = typeof d === 'number' ? d + pads![i] + pads![i + n] : pads![i] + pads![i + n] === 0 ? d : UNKNOWN_DIM;
  });
  return { dtype: x.dtype, shape };
}
