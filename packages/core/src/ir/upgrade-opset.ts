import { UnsupportedOperatorError, type UnsupportedOp } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { Attribute, IrGraph, IrNode } from './types.js';

/**
 * The operator set of the IR and of compiled graphs. Backward ops need ReduceSum axes as an input
 * (13), ScatterElements `reduction` (16) and Col2Im (18), with which a Conv's input gradient runs
 * as one batched MatMul; older graphs are rewritten to the forms of this opset when read.
 */
export const COMPILED_MIN_OPSET = 18;

/** Reductions whose `axes` attribute became an input at opset 18 (ReduceSum moved at 13). */
const REDUCE_AXES_INPUT_AT_18 = ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'];

/** A deep copy of the graph's structure; tensors are shared because nobody mutates them. */
export function cloneGraph(graph: IrGraph): IrGraph {
  return {
    ...graph,
    inputs: graph.inputs.map((v) => ({ ...v, shape: [...v.shape] })),
    outputs: graph.outputs.map((v) => ({ ...v, shape: [...v.shape] })),
    initializers: new Map(graph.initializers),
    nodes: graph.nodes.map(cloneNode),
    values: new Map([...graph.values].map(([k, v]) => [k, { ...v, shape: [...v.shape] }])),
  };
}

function cloneNode(n: IrNode): IrNode {
  return { ...n, inputs: [...n.inputs], outputs: [...n.outputs], attributes: { ...n.attributes } };
}

/**
 * Rewrites a graph of any opset from 7 on so that it means the same in the forms of opset
 * max(its opset, 18): attributes that later became inputs (Clip min/max, Slice, Pad, Squeeze/
 * Unsqueeze/Reduce* axes, Split sizes) become constant inputs, Upsample and the opset-10 Resize
 * become the Resize they equal, BatchNormalization loses `spatial` and its unused training
 * outputs, Softmax before 13 gets its 2-D coercion spelt out, and Dropout (inference: the
 * identity) becomes Identity. The loader runs it before folding, so every later pass and every
 * backward rule sees one form per operator. Nodes whose old form has no equivalent (Upsample
 * with run-time scales, per-activation BatchNormalization, …) are refused together as
 * UnsupportedOperatorError. The input graph is not modified.
 */
export function upgradeOpset(graph: IrGraph): IrGraph {
  const g = cloneGraph(graph);
  const from = g.opsetVersion;
  const taken = new Set<string>([...g.initializers.keys(), ...g.values.keys(), ...g.inputs.map((v) => v.name)]);
  for (const n of g.nodes) for (const o of [...n.inputs, ...n.outputs]) taken.add(o);
  let counter = 0;
  const fresh = (hint: string): string => {
    let name: string;
    do name = `${hint}_${counter++}`;
    while (taken.has(name));
    taken.add(name);
    return name;
  };
  const constant = (t: Tensor, hint: string): string => {
    const name = fresh(hint);
    g.initializers.set(name, t);
    return name;
  };
  const int64s = (values: number[], hint: string) => constant({ dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values.map(BigInt)) }, hint);
  const floatScalar = (value: number, hint: string) => constant({ dtype: 'float32', shape: [], data: Float32Array.of(value) }, hint);
  const floats = (values: number[], hint: string) => constant({ dtype: 'float32', shape: [values.length], data: Float32Array.from(values) }, hint);
  const consumed = new Set<string>(g.outputs.map((o) => o.name));
  for (const n of g.nodes) for (const i of n.inputs) if (i) consumed.add(i);
  const constantNodes = new Map<string, IrNode>();
  for (const n of g.nodes) if (n.opType === 'Constant' && isOnnx(n)) constantNodes.set(n.outputs[0], n);
  const constantFloats = (name: string): number[] | undefined => {
    const t = g.initializers.get(name) ?? constantTensor(constantNodes.get(name));
    return t && (t.dtype === 'float32' || t.dtype === 'float64') ? Array.from(t.data as Float32Array) : undefined;
  };

  const refused: UnsupportedOp[] = [];
  const nodes: IrNode[] = [];
  for (const n of g.nodes) {
    if (!isOnnx(n)) {
      nodes.push(n);
      continue;
    }
    const hint = n.name || n.opType;
    if (n.opType === 'Dropout') {
      nodes.push({ ...n, opType: 'Identity', attributes: {}, inputs: n.inputs.slice(0, 1), outputs: n.outputs.slice(0, 1) });
      if (n.outputs.slice(1).some((o) => o && consumed.has(o))) refused.push({ opType: 'Dropout (mask output)', name: n.name });
      continue;
    }
    if (from < 13 && (n.opType === 'Softmax' || n.opType === 'LogSoftmax')) {
      nodes.push(...coercedSoftmax(g, n, fresh));
      continue;
    }
    if (n.opType === 'Upsample' || (from < 11 && n.opType === 'Resize')) {
      const resize = asymmetricResize(n, from, constantFloats, (v) => floats(v, `${hint}_scales`));
      if (resize) nodes.push(resize);
      else {
        refused.push({ opType: `${n.opType} (scales computed at run time, or mixing up- and downsampling)`, name: n.name });
        nodes.push(n);
      }
      continue;
    }
    nodes.push(n);
    const take = (attr: string): Attribute | undefined => {
      const a = n.attributes[attr];
      delete n.attributes[attr];
      return a;
    };
    switch (n.opType) {
      case 'Clip':
        if (from < 11) {
          const min = take('min');
          const max = take('max');
          n.inputs = [n.inputs[0], min ? floatScalar(numberOf(min), `${hint}_min`) : '', max ? floatScalar(numberOf(max), `${hint}_max`) : ''];
          while (n.inputs[n.inputs.length - 1] === '') n.inputs.pop();
        }
        break;
      case 'Slice':
        if (from < 10) {
          const starts = intsOf(take('starts'));
          const ends = intsOf(take('ends'));
          const axes = take('axes');
          n.inputs = [n.inputs[0], int64s(starts, `${hint}_starts`), int64s(ends, `${hint}_ends`), ...(axes ? [int64s(intsOf(axes), `${hint}_axes`)] : [])];
        }
        break;
      case 'Pad':
        if (from < 11) {
          const pads = intsOf(take('pads'));
          const value = take('value');
          n.inputs = [n.inputs[0], int64s(pads, `${hint}_pads`), ...(value ? [floatScalar(numberOf(value), `${hint}_value`)] : [])];
        }
        break;
      case 'BatchNormalization': {
        const spatial = take('spatial');
        if (spatial && numberOf(spatial) === 0) refused.push({ opType: 'BatchNormalization (spatial = 0)', name: n.name });
        delete n.attributes.is_test;
        delete n.attributes.consumed_inputs;
        if (n.outputs.slice(1).some((o) => o && consumed.has(o))) refused.push({ opType: 'BatchNormalization (training outputs)', name: n.name });
        n.outputs = n.outputs.slice(0, 1);
        break;
      }
      case 'Squeeze':
      case 'Unsqueeze':
      case 'ReduceSum':
        if (from < 13) {
          const axes = take('axes');
          if (axes) n.inputs = [n.inputs[0], int64s(intsOf(axes), `${hint}_axes`)];
        }
        break;
      case 'Split':
        if (from < 13) {
          const split = take('split');
          if (split) n.inputs = [n.inputs[0], int64s(intsOf(split), `${hint}_split`)];
        }
        // Opset 18 wants the number of equal parts said explicitly.
        if (from < 18 && !n.inputs[1] && !n.attributes.num_outputs) n.attributes.num_outputs = { type: 'int', value: n.outputs.length };
        break;
      case 'Resize':
        if (from < 13 && n.attributes.coordinate_transformation_mode?.type === 'string' && n.attributes.coordinate_transformation_mode.value === 'tf_half_pixel_for_nn') {
          refused.push({ opType: "Resize (coordinate_transformation_mode 'tf_half_pixel_for_nn')", name: n.name });
        }
        break;
      default:
        if (from < 18 && REDUCE_AXES_INPUT_AT_18.includes(n.opType)) {
          const axes = take('axes');
          if (axes) n.inputs = [n.inputs[0], int64s(intsOf(axes), `${hint}_axes`)];
        }
    }
  }
  if (refused.length > 0) throw new UnsupportedOperatorError(refused, `operators whose opset-${from} form Blameboard cannot read`);
  g.nodes = nodes;
  g.opsetVersion = Math.max(from, COMPILED_MIN_OPSET);
  // Opset 18 needs IR version 8.
  g.irVersion = Math.max(g.irVersion, 8);
  return g;
}

function isOnnx(n: IrNode): boolean {
  return n.domain === '' || n.domain === 'ai.onnx';
}

function numberOf(a: Attribute | undefined): number {
  return a && (a.type === 'float' || a.type === 'int') ? a.value : NaN;
}

function intsOf(a: Attribute | undefined): number[] {
  return a && a.type === 'ints' ? a.value : [];
}

function constantTensor(n: IrNode | undefined): Tensor | undefined {
  const v = n?.attributes.value;
  if (v?.type === 'tensor') return v.value;
  const f = n?.attributes.value_floats;
  if (f?.type === 'floats') return { dtype: 'float32', shape: [f.value.length], data: Float32Array.from(f.value) };
  return undefined;
}

/**
 * Upsample (opsets 7–9) and the opset-10 Resize as an opset-18 Resize. onnxruntime runs them
 * with asymmetric coordinates (x_in = x_out / scale) and, for nearest, its "simple" rounding:
 * floor when upsampling, ceil when downsampling — so the scales must be constants, all ≥ 1 or
 * all ≤ 1, to name the rounding. Returns undefined when they are not.
 */
function asymmetricResize(n: IrNode, from: number, constantFloats: (name: string) => number[] | undefined, scalesInput: (values: number[]) => string): IrNode | undefined {
  const attrScales = n.attributes.scales;
  const scales = attrScales?.type === 'floats' ? attrScales.value : n.inputs[1] ? constantFloats(n.inputs[1]) : undefined;
  if (!scales || scales.length === 0) return undefined;
  const rawMode = n.attributes.mode?.type === 'string' ? n.attributes.mode.value : 'nearest';
  const mode = rawMode === 'bilinear' || rawMode === 'linear' ? 'linear' : rawMode;
  if (mode !== 'nearest' && mode !== 'linear') return undefined;
  const up = scales.every((s) => s >= 1);
  const down = scales.every((s) => s <= 1);
  if (mode === 'nearest' && !up && !down) return undefined;
  const attributes: Record<string, Attribute> = {
    mode: { type: 'string', value: mode },
    coordinate_transformation_mode: { type: 'string', value: 'asymmetric' },
  };
  if (mode === 'nearest') attributes.nearest_mode = { type: 'string', value: up ? 'floor' : 'ceil' };
  const scalesName = attrScales?.type === 'floats' || from < 9 ? scalesInput(scales) : n.inputs[1];
  return { ...n, opType: 'Resize', inputs: [n.inputs[0], '', scalesName], attributes };
}

/** Softmax/LogSoftmax before opset 13 normalised over all axes from `axis` on (input coerced to 2-D). */
function coercedSoftmax(g: IrGraph, n: IrNode, fresh: (hint: string) => string): IrNode[] {
  const rank = g.values.get(n.inputs[0])?.shape.length;
  const raw = n.attributes.axis?.type === 'int' ? n.attributes.axis.value : 1;
  const axis = rank !== undefined && raw < 0 ? raw + rank : raw;
  if (rank !== undefined && axis === rank - 1) return [{ ...n, attributes: { axis: { type: 'int', value: axis } } }];
  const [x] = n.inputs;
  const [y] = n.outputs;
  const flat = fresh(`${y}_flat`);
  const soft = fresh(`${y}_2d`);
  const shape = fresh(`${y}_shape`);
  const xv = g.values.get(x);
  if (xv) {
    const lead = xv.shape.slice(0, axis);
    const rest = xv.shape.slice(axis);
    const prod = (ds: typeof lead) => (ds.every((d) => typeof d === 'number') ? (ds as number[]).reduce((p, d) => p * d, 1) : lead[0] ?? 1);
    g.values.set(flat, { name: flat, dtype: xv.dtype, shape: [prod(lead), prod(rest)] });
    g.values.set(soft, { name: soft, dtype: xv.dtype, shape: [prod(lead), prod(rest)] });
    g.values.set(shape, { name: shape, dtype: 'int64', shape: [xv.shape.length] });
  }
  return [
    { name: fresh(`${n.name}_flatten`), opType: 'Flatten', domain: '', inputs: [x], outputs: [flat], attributes: { axis: { type: 'int', value: axis } } },
    { name: n.name, opType: n.opType, domain: '', inputs: [flat], outputs: [soft], attributes: { axis: { type: 'int', value: 1 } } },
    { name: fresh(`${n.name}_shape`), opType: 'Shape', domain: '', inputs: [x], outputs: [shape], attributes: {} },
    { name: fresh(`${n.name}_reshape`), opType: 'Reshape', domain: '', inputs: [soft, shape], outputs: [y], attributes: {} },
  ];
}
