import type { Tensor } from '../tensor.js';
import type { IrGraph, IrNode } from '../ir/types.js';

/**
 * Backward ops need opset ≥ 18: ReduceSum axes as an input (13), ScatterElements `reduction` (16),
 * and Col2Im (18), with which a Conv's input gradient runs as one batched MatMul.
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
 * Rewrites the forward graph so that it means the same at the compiled graph's opset: axes
 * attributes that became inputs at opset 13 are turned into int64 initializers, and Dropout
 * (inference: the identity) becomes Identity, whose schema did not change between opsets.
 */
export function upgradeOpset(graph: IrGraph): IrGraph {
  const g = cloneGraph(graph);
  const from = g.opsetVersion;
  if (from >= COMPILED_MIN_OPSET) return g;
  let counter = 0;
  const taken = new Set<string>([...g.initializers.keys(), ...g.values.keys(), ...g.inputs.map((v) => v.name)]);
  for (const n of g.nodes) for (const o of [...n.inputs, ...n.outputs]) taken.add(o);
  const int64Init = (values: number[], hint: string): string => {
    let name: string;
    do name = `${hint}_axes_${counter++}`;
    while (taken.has(name));
    taken.add(name);
    const t: Tensor = { dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values.map(BigInt)) };
    g.initializers.set(name, t);
    return name;
  };
  const nodes: IrNode[] = [];
  for (const n of g.nodes) {
    nodes.push(n);
    if (n.domain !== '' && n.domain !== 'ai.onnx') continue;
    if (from < 13 && (n.opType === 'Softmax' || n.opType === 'LogSoftmax')) {
      // Before opset 13 softmax normalised over all axes from `axis` on (input coerced to 2-D).
      const rank = g.values.get(n.inputs[0])?.shape.length;
      const raw = n.attributes.axis?.type === 'int' ? n.attributes.axis.value : 1;
      const axis = rank !== undefined && raw < 0 ? raw + rank : raw;
      if (rank === undefined || axis !== rank - 1) {
        const fresh = (hint: string) => {
          let name: string;
          do name = `${hint}_${counter++}`;
          while (taken.has(name));
          taken.add(name);
          return name;
        };
        const [x] = n.inputs;
        const [y] = n.outputs;
        const flat = fresh(`${y}_flat`);
        const soft = fresh(`${y}_2d`);
        const shape = fresh(`${y}_shape`);
        nodes.pop();
        nodes.push(
          { name: fresh(`${n.name}_flatten`), opType: 'Flatten', domain: '', inputs: [x], outputs: [flat], attributes: { axis: { type: 'int', value: axis } } },
          { name: n.name, opType: n.opType, domain: '', inputs: [flat], outputs: [soft], attributes: { axis: { type: 'int', value: 1 } } },
          { name: fresh(`${n.name}_shape`), opType: 'Shape', domain: '', inputs: [x], outputs: [shape], attributes: {} },
          { name: fresh(`${n.name}_reshape`), opType: 'Reshape', domain: '', inputs: [soft, shape], outputs: [y], attributes: {} },
        );
        const xv = g.values.get(x);
        if (xv) {
          const lead = xv.shape.slice(0, axis);
          const rest = xv.shape.slice(axis);
          const prod = (ds: typeof lead) => (ds.every((d) => typeof d === 'number') ? (ds as number[]).reduce((p, d) => p * d, 1) : lead[0] ?? 1);
          g.values.set(flat, { name: flat, dtype: xv.dtype, shape: [prod(lead), prod(rest)] });
          g.values.set(soft, { name: soft, dtype: xv.dtype, shape: [prod(lead), prod(rest)] });
          g.values.set(shape, { name: shape, dtype: 'int64', shape: [xv.shape.length] });
        }
        continue;
      }
    }
    if (n.opType === 'Dropout') {
      n.opType = 'Identity';
      n.attributes = {};
      n.inputs = n.inputs.slice(0, 1);
      n.outputs = n.outputs.slice(0, 1);
      continue;
    }
    if (from < 13 && ['Squeeze', 'Unsqueeze', 'ReduceSum'].includes(n.opType)) {
      const axes = n.attributes.axes;
      if (axes && axes.type === 'ints') {
        delete n.attributes.axes;
        n.inputs = [n.inputs[0], int64Init(axes.value, n.name || n.opType)];
      }
    }
    if (from < 18 && REDUCE_AXES_INPUT_AT_18.includes(n.opType)) {
      const axes = n.attributes.axes;
      if (axes && axes.type === 'ints') {
        delete n.attributes.axes;
        n.inputs = [n.inputs[0], int64Init(axes.value, n.name || n.opType)];
      }
    }
    if (from < 18 && n.opType === 'Split' && !n.inputs[1] && !n.attributes.split && !n.attributes.num_outputs) {
      // Opset 18 wants the number of equal parts said explicitly.
      n.attributes.num_outputs = { type: 'int', value: n.outputs.length };
    }
    if (from < 13 && n.opType === 'Split') {
      const split = n.attributes.split;
      if (split && split.type === 'ints') {
        delete n.attributes.split;
        n.inputs = [n.inputs[0], int64Init(split.value, n.name || n.opType)];
      }
    }
  }
  g.nodes = nodes;
  g.opsetVersion = COMPILED_MIN_OPSET;
  // Opset 18 needs IR version 8.
  g.irVersion = Math.max(g.irVersion, 8);
  return g;
}
