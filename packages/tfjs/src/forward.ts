import type * as TfCore from '@tensorflow/tfjs-core';
import { InputError, type IrGraph, type IrNode, type Tensor, type UnsupportedOp, UnsupportedOperatorError } from '@blameboard/core';
import { getTf } from './backend.js';
import type { Tf } from './backend.js';
import { OPS } from './onnx-ops.js';
import type { OpContext } from './onnx-ops.js';

/** Operators `tfForward`/`tfGradient` can evaluate. */
export const TF_SUPPORTED_OPS: readonly string[] = [...Object.keys(OPS), 'Constant'];

/** Nodes of the graph the tfjs executor cannot run, by op type and node name. */
export function tfUnsupportedOps(graph: IrGraph): UnsupportedOp[] {
  return graph.nodes
    .filter((n) => (n.domain !== '' && n.domain !== 'ai.onnx') || !TF_SUPPORTED_OPS.includes(n.opType))
    .map((n) => ({ opType: n.opType, name: n.name }));
}

/** The value of a Constant node as an IR tensor. */
function constantValue(node: IrNode): Tensor {
  const [name, a] = Object.entries(node.attributes)[0] ?? [];
  if (a?.type === 'tensor') return a.value;
  if (name === 'value_float' && a?.type === 'float') return { dtype: 'float32', shape: [], data: Float32Array.of(a.value) };
  if (name === 'value_floats' && a?.type === 'floats') return { dtype: 'float32', shape: [a.value.length], data: Float32Array.from(a.value) };
  if (name === 'value_int' && a?.type === 'int') return { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(a.value)) };
  if (name === 'value_ints' && a?.type === 'ints') {
    return { dtype: 'int64', shape: [a.value.length], data: BigInt64Array.from(a.value.map((v) => BigInt(v))) };
  }
  throw new UnsupportedOperatorError([{ opType: 'Constant', name: node.name }], `unsupported Constant attribute '${name}'`);
}

/** An IR tensor as a float32 tfjs tensor (tfjs computes in float32; integer constants convert). */
export function toTf(tf: Tf, t: Tensor): TfCore.Tensor {
  const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number | bigint>, Number);
  return tf.tensor(data, t.shape, 'float32');
}

/**
 * Evaluates the graph on `x` node by node with tfjs ops and returns its first output. Synchronous
 * and built from differentiable ops, so it runs inside `tf.tidy` and `tf.grad`; the caller owns
 * the tensor memory (wrap calls in `tf.tidy`).
 */
export function runGraph(tf: Tf, graph: IrGraph, x: TfCore.Tensor): TfCore.Tensor {
  const missing = tfUnsupportedOps(graph);
  if (missing.length > 0) throw new UnsupportedOperatorError(missing, 'unsupported in the tfjs executor');
  if (graph.inputs.length !== 1) {
    throw new InputError(`the tfjs executor needs a graph with exactly one input, this one has ${graph.inputs.length}`);
  }
  const constants = new Map<string, Tensor>(graph.initializers);
  const values = new Map<string, TfCore.Tensor>([[graph.inputs[0].name, x]]);
  const valueOf = (name: string): TfCore.Tensor | undefined => {
    if (!name) return undefined;
    let v = values.get(name);
    if (!v) {
      const c = constants.get(name);
      if (!c) throw new InputError(`the graph uses value '${name}' before it is computed`);
      v = toTf(tf, c);
      values.set(name, v);
    }
    return v;
  };
  for (const node of graph.nodes) {
    if (node.opType === 'Constant') {
      constants.set(node.outputs[0], constantValue(node));
      continue;
    }
    const ctx: OpContext = {
      tf,
      node,
      opset: graph.opsetVersion,
      input: (i) => valueOf(node.inputs[i] ?? ''),
      constant: (i) => constants.get(node.inputs[i] ?? ''),
    };
    const out = OPS[node.opType](ctx);
    if (Array.isArray(out)) out.forEach((t, i) => node.outputs[i] && values.set(node.outputs[i], t));
    else values.set(node.outputs[0], out);
  }
  const out = valueOf(graph.outputs[0].name);
  if (!out) throw new InputError(`the graph output '${graph.outputs[0].name}' is never computed`);
  return out;
}

/** The input as a float32 tfjs tensor. */
export function inputToTf(tf: Tf, x: Tensor): TfCore.Tensor {
  if (x.dtype !== 'float32' && x.dtype !== 'float64') {
    throw new InputError(`model inputs must be float32, got ${x.dtype}`);
  }
  return toTf(tf, x);
}

/** Runs the graph with tfjs (the independent reference for onnxruntime and the compiled graphs). */
export async function tfForward(graph: IrGraph, x: Tensor): Promise<Tensor> {
  const tf = await getTf();
  const y = tf.tidy(() => runGraph(tf, graph, inputToTf(tf, x)));
  try {
    const data = (await y.data()) as Float32Array;
    return { dtype: 'float32', shape: [...y.shape], data: Float32Array.from(data) };
  } finally {
    y.dispose();
  }
}
