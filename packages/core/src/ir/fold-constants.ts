import { ModelLoadError } from '../errors.js';
import { sizeOf, type DType, type Tensor } from '../tensor.js';
import { allocate } from '../onnx/tensor-proto.js';
import { constantValue, inferNode, intAttr, ints, intsAttr, type InferContext } from './shape-inference.js';
import type { Dim, IrGraph, IrNode, IrValue } from './types.js';

/**
 * A constant whose entries may be symbols: the batch 'N' flowing out of Shape(x). PyTorch's
 * `x.view(x.size(0), -1)` computes Reshape's target from Shape→Gather→Unsqueeze→Concat; with
 * symbols we can evaluate that chain without knowing N and hand Reshape a plain constant.
 */
interface SymConst {
  dtype: DType;
  shape: number[];
  values: Dim[];
}

/** Add/Sub/Mul/Div fold only on integers: shape arithmetic, never a float layer of the model. */
const FOLDABLE = new Set(['Constant', 'Identity', 'Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Cast', 'Slice', 'Add', 'Sub', 'Mul', 'Div']);

/**
 * Turns Constant nodes into initializers, evaluates every foldable node whose inputs are all
 * constant (Shape of a value whose non-batch dims are known included), gives Reshape a constant
 * target with the batch as 0 (copy) or -1, then drops dead nodes and unused initializers.
 * Mutates `graph`; `graph.values` is left stale (run inferShapes after).
 */
export function foldConstants(graph: IrGraph): void {
  const syms = new Map<string, SymConst>();
  const values = new Map<string, IrValue>();
  for (const v of graph.inputs) values.set(v.name, v);
  for (const [name, t] of graph.initializers) values.set(name, { name, dtype: t.dtype, shape: t.shape });
  const ctx: InferContext = { value: (n) => values.get(n), constant: (n) => graph.initializers.get(n), opsetVersion: graph.opsetVersion };
  const known = (name: string): SymConst | undefined => {
    const s = syms.get(name);
    if (s) return s;
    const t = graph.initializers.get(name);
    return t ? fromTensor(t) : undefined;
  };

  const kept: IrNode[] = [];
  for (const node of graph.nodes) {
    const folded = node.outputs.length === 1 && FOLDABLE.has(node.opType) && node.domain === '' ? evaluate(node, known, values, graph.opsetVersion) : undefined;
    if (folded && folded.values.every((v) => typeof v === 'number')) {
      const t = toTensor(folded);
      graph.initializers.set(node.outputs[0], t);
      values.set(node.outputs[0], { name: node.outputs[0], dtype: t.dtype, shape: t.shape });
      continue;
    }
    if (folded) syms.set(node.outputs[0], folded);
    if (node.opType === 'Reshape') resolveReshapeTarget(node, graph, syms, values);
    kept.push(node);
    const out = inferNode(node, ctx);
    out?.forEach((v, i) => {
      if (v && node.outputs[i]) values.set(node.outputs[i], { ...v, name: node.outputs[i] });
    });
  }
  graph.nodes = kept;
  removeDead(graph);
}

function resolveReshapeTarget(node: IrNode, graph: IrGraph, syms: Map<string, SymConst>, values: Map<string, IrValue>): void {
  const target = syms.get(node.inputs[1]);
  if (!target) return;
  const input = values.get(node.inputs[0])?.shape;
  const allowZero = intAttr(node.attributes, 'allowzero', 0) === 1;
  const hasMinusOne = target.values.includes(-1);
  const symbolic = target.values.filter((v) => typeof v === 'string').length;
  const resolved: number[] = [];
  for (let i = 0; i < target.values.length; i++) {
    const v = target.values[i];
    if (typeof v === 'number') resolved.push(v);
    else if (!allowZero && input && input[i] === v) resolved.push(0);
    else if (!hasMinusOne && symbolic === 1) resolved.push(-1);
    else return;
  }
  let name = `${node.inputs[1]}_folded`;
  while (graph.initializers.has(name) || values.has(name)) name += '_';
  graph.initializers.set(name, { dtype: 'int64', shape: [resolved.length], data: BigInt64Array.from(resolved, (v) => BigInt(v)) });
  node.inputs = [node.inputs[0], name, ...node.inputs.slice(2)];
}

/** Removes nodes whose outputs nobody reads, then initializers nobody reads. */
function removeDead(graph: IrGraph): void {
  const live = new Set(graph.outputs.map((o) => o.name));
  const nodes: IrNode[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    if (!node.outputs.some((o) => live.has(o))) continue;
    nodes.push(node);
    for (const input of node.inputs) if (input) live.add(input);
  }
  graph.nodes = nodes.reverse();
  for (const name of [...graph.initializers.keys()]) if (!live.has(name)) graph.initializers.delete(name);
}

// ---- evaluation ---------------------------------------------------------------------------

function evaluate(node: IrNode, known: (n: string) => SymConst | undefined, values: Map<string, IrValue>, opset: number): SymConst | undefined {
  const a = node.attributes;
  if (node.opType === 'Constant') {
    const t = constantValue(node);
    if (!t) throw new ModelLoadError(`Constant node '${node.name}' has no value Blameboard can read`);
    return fromTensor(t);
  }
  if (node.opType === 'Shape') {
    const shape = values.get(node.inputs[0])?.shape;
    if (!shape || shape.some((d) => d === '?')) return undefined;
    const r = shape.length;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    const dims = shape.slice(clamp(intAttr(a, 'start', 0)), clamp(intAttr(a, 'end', r)));
    return { dtype: 'int64', shape: [dims.length], values: dims };
  }
  const inputs = node.inputs.map((n) => (n === '' ? undefined : known(n)));
  if (inputs[0] === undefined || inputs.some((v, i) => v === undefined && node.inputs[i] !== '')) return undefined;
  const x = inputs[0];
  switch (node.opType) {
    case 'Identity':
      return x;
    case 'Cast': {
      const to = castDtype(intAttr(a, 'to', 0));
      if (!to) return undefined;
      const isInt = to !== 'float32' && to !== 'float64';
      if (!isInt && x.values.some((v) => typeof v === 'string')) return undefined;
      const values = x.values.map((v) => (typeof v === 'string' ? v : to === 'bool' ? Number(v !== 0) : isInt ? Math.trunc(v) : v));
      return { dtype: to, shape: x.shape, values };
    }
    case 'Unsqueeze': {
      const axes = intsAttr(a, 'axes') ?? (opset >= 13 && inputs[1] ? numbers(inputs[1]) : undefined);
      if (!axes) return undefined;
      const r = x.shape.length + axes.length;
      const set = new Set(axes.map((ax) => (ax < 0 ? ax + r : ax)));
      const shape: number[] = [];
      for (let i = 0, j = 0; i < r; i++) shape.push(set.has(i) ? 1 : x.shape[j++]);
      return { ...x, shape };
    }
    case 'Squeeze': {
      const axes = intsAttr(a, 'axes') ?? (opset >= 13 && inputs[1] ? numbers(inputs[1]) : undefined);
      const r = x.shape.length;
      const set = new Set(axes ? axes.map((ax) => (ax < 0 ? ax + r : ax)) : x.shape.flatMap((d, i) => (d === 1 ? [i] : [])));
      return { ...x, shape: x.shape.filter((_, i) => !set.has(i)) };
    }
    case 'Gather': {
      const idx = inputs[1];
      if (!idx) return undefined;
      const indices = numbers(idx);
      if (!indices) return undefined;
      const r = x.shape.length;
      const axis = norm(intAttr(a, 'axis', 0), r);
      const outer = sizeOf(x.shape.slice(0, axis));
      const len = x.shape[axis];
      const inner = sizeOf(x.shape.slice(axis + 1));
      const values: Dim[] = [];
      for (let o = 0; o < outer; o++) {
        for (let i of indices) {
          if (i < 0) i += len;
          if (i < 0 || i >= len) throw new ModelLoadError(`Gather node '${node.name}': index out of range`);
          for (let k = 0; k < inner; k++) values.push(x.values[(o * len + i) * inner + k]);
        }
      }
      return { dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)], values };
    }
    case 'Concat': {
      const parts = inputs as SymConst[];
      const r = x.shape.length;
      const axis = norm(intAttr(a, 'axis', 0), r);
      const outer = sizeOf(x.shape.slice(0, axis));
      const values: Dim[] = [];
      for (let o = 0; o < outer; o++) {
        for (const p of parts) {
          const block = sizeOf(p.shape.slice(axis));
          for (let k = 0; k < block; k++) values.push(p.values[o * block + k]);
        }
      }
      const shape = [...x.shape];
      shape[axis] = parts.reduce((s, p) => s + p.shape[axis], 0);
      return { dtype: x.dtype, shape, values };
    }
    case 'Slice':
      return slice(x, inputs.slice(1));
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      const y = inputs[1];
      if (!y || !isInteger(x.dtype) || !isInteger(y.dtype)) return undefined;
      if (x.values.some((v) => typeof v === 'string') || y.values.some((v) => typeof v === 'string')) return undefined;
      return elementwise(x, y, node.opType);
    }
    default:
      return undefined;
  }
}

function slice(x: SymConst, args: (SymConst | undefined)[]): SymConst | undefined {
  const [starts, ends, axesT, stepsT] = args.map((t) => (t ? numbers(t) : undefined));
  if (!starts || !ends) return undefined;
  const r = x.shape.length;
  const axes = axesT ?? starts.map((_, i) => i);
  const steps = stepsT ?? starts.map(() => 1);
  const begin = x.shape.map(() => 0);
  const step = x.shape.map(() => 1);
  const count = [...x.shape];
  axes.forEach((ax0, i) => {
    const ax = norm(ax0, r);
    const dim = x.shape[ax];
    const s = steps[i];
    if (s === 0) throw new ModelLoadError('Slice step 0');
    let b = starts[i] < 0 ? starts[i] + dim : starts[i];
    let e = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (s > 0) {
      b = Math.min(Math.max(b, 0), dim);
      e = Math.min(Math.max(e, 0), dim);
      count[ax] = Math.max(0, Math.ceil((e - b) / s));
    } else {
      b = Math.min(Math.max(b, -1), dim - 1);
      e = Math.min(Math.max(e, -1), dim - 1);
      count[ax] = Math.max(0, Math.ceil((e - b) / s));
    }
    begin[ax] = b;
    step[ax] = s;
  });
  const strides = x.shape.map((_, i) => sizeOf(x.shape.slice(i + 1)));
  const values: Dim[] = [];
  const idx = new Array(r).fill(0);
  const total = sizeOf(count);
  for (let n = 0; n < total; n++) {
    let flat = 0;
    for (let d = 0; d < r; d++) flat += (begin[d] + idx[d] * step[d]) * strides[d];
    values.push(x.values[flat]);
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d] < count[d]) break;
      idx[d] = 0;
    }
  }
  return { dtype: x.dtype, shape: count, values };
}

function elementwise(x: SymConst, y: SymConst, op: string): SymConst | undefined {
  const r = Math.max(x.shape.length, y.shape.length);
  const pad = (s: number[]) => [...Array(r - s.length).fill(1), ...s];
  const [xs, ys] = [pad(x.shape), pad(y.shape)];
  const shape: number[] = [];
  for (let i = 0; i < r; i++) {
    if (xs[i] !== ys[i] && xs[i] !== 1 && ys[i] !== 1) return undefined;
    shape.push(Math.max(xs[i], ys[i]));
  }
  const total = sizeOf(shape);
  const at = (t: SymConst, ts: number[], flat: number) => {
    let off = 0;
    let rest = flat;
    let stride = 1;
    for (let d = r - 1; d >= 0; d--) {
      const i = rest % shape[d];
      rest = Math.floor(rest / shape[d]);
      if (ts[d] !== 1) off += i * stride;
      stride *= ts[d];
    }
    return t.values[off] as number;
  };
  const values: number[] = [];
  for (let n = 0; n < total; n++) {
    const [p, q] = [at(x, xs, n), at(y, ys, n)];
    if (op === 'Div' && q === 0) return undefined;
    values.push(op === 'Add' ? p + q : op === 'Sub' ? p - q : op === 'Mul' ? p * q : Math.trunc(p / q));
  }
  return { dtype: x.dtype, shape, values };
}

function isInteger(d: DType): boolean {
  return d === 'int64' || d === 'int32' || d === 'int16' || d === 'int8' || d === 'uint8';
}

function norm(axis: number, r: number): number {
  return axis < 0 ? axis + r : axis;
}

function numbers(t: SymConst): number[] | undefined {
  return t.values.every((v) => typeof v === 'number') ? (t.values as number[]) : undefined;
}

function castDtype(to: number): DType | undefined {
  const map: Record<number, DType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 11: 'float64' };
  return map[to];
}

function fromTensor(t: Tensor): SymConst {
  return { dtype: t.dtype, shape: [...t.shape], values: t.dtype === 'int64' ? ints(t) : Array.from(t.data as ArrayLike<number>) };
}

function toTensor(s: SymConst): Tensor {
  const data = allocate(s.dtype, s.values.length);
  if (data instanceof BigInt64Array) {
    s.values.forEach((v, i) => (data[i] = BigInt(Math.trunc(v as number))));
  } else {
    (data as Float64Array).set(s.values as number[]);
  }
  return { dtype: s.dtype, shape: [...s.shape], data };
}
