import path from 'node:path';
import { isBlameboardError, ModelLoadError, UnsupportedOperatorError } from '../errors.js';
import { readRegularFile } from '../files.js';
import type { Tensor } from '../tensor.js';
import { foldConstants } from '../ir/fold-constants.js';
import { inferShapes } from '../ir/shape-inference.js';
import { unsupportedOps } from '../ir/support.js';
import { upgradeOpset } from '../ir/upgrade-opset.js';
import type { Attribute, Dim, IrGraph, IrNode, IrValue } from '../ir/types.js';
import { readExternalData } from './external-data.js';
import { refuseNonFiniteWeights } from './finite.js';
import {
  AttributeType,
  ModelProto,
  toNumber,
  type OnnxAttributeProto,
  type OnnxModelProto,
  type OnnxNodeProto,
  type OnnxTensorProto,
  type OnnxValueInfoProto,
} from './onnx.proto.js';
import { dtypeFromOnnx, tensorFromProto } from './tensor-proto.js';

export interface ReadOptions {
  /** Folder that external-data locations are relative to (and must stay inside). */
  baseDir?: string;
}

export const MIN_OPSET = 7;
export const MAX_OPSET = 21;

/**
 * Decodes, constant-folds and shape-infers an ONNX model. Throws ModelLoadError for anything
 * that is not a readable ONNX model and UnsupportedOperatorError for operators the IR cannot
 * model (after folding, so PyTorch's shape chains do not count).
 */
export function readOnnx(bytes: Uint8Array, opts: ReadOptions = {}): IrGraph {
  return guard(() => prepareGraph(irFromModel(decodeModel(bytes, opts))));
}

export function loadOnnxFile(file: string): IrGraph {
  return readOnnx(readModelFile(file), { baseDir: path.dirname(path.resolve(file)) });
}

export function readModelFile(file: string): Uint8Array {
  return readRegularFile(file, (why) => new ModelLoadError(`cannot read model '${file}': ${why}`));
}

/**
 * Rewrites old operator forms to the IR's opset, folds constants, refuses unsupported operators,
 * infers shapes. Returns the prepared graph (a new one; `graph` may be modified).
 */
export function prepareGraph(raw: IrGraph): IrGraph {
  return guard(() => {
    const graph = upgradeOpset(raw);
    foldConstants(graph);
    const bad = unsupportedOps(graph);
    if (bad.length > 0) throw new UnsupportedOperatorError(bad, 'the model uses operators Blameboard cannot explain');
    inferShapes(graph);
    return graph;
  });
}

/**
 * The protobuf message of a model, checked to have a graph and an opset in range, with every
 * external tensor read into raw_data (so the message is self-contained and can be re-encoded).
 */
export function decodeModel(bytes: Uint8Array, opts: ReadOptions = {}): OnnxModelProto {
  return decodeModelInfo(bytes, opts).model;
}

/** decodeModel, also telling whether any tensor was read from an external file. */
export function decodeModelInfo(bytes: Uint8Array, opts: ReadOptions = {}): { model: OnnxModelProto; external: boolean } {
  return guard(() => {
    let external = false;
    if (bytes.length === 0) throw new ModelLoadError('not an ONNX model: the file is empty');
    let model: OnnxModelProto;
    try {
      model = ModelProto.decode(bytes) as unknown as OnnxModelProto;
    } catch (e) {
      throw new ModelLoadError(`not a valid ONNX model (truncated or corrupt): ${firstLine(e)}`, { cause: e });
    }
    const graph = model.graph;
    if (!graph) throw new ModelLoadError('not a valid ONNX model: it has no graph');
    declaredOpset(model);
    if (graph.node.length === 0) throw new ModelLoadError('not a valid ONNX model: the graph has no nodes');
    for (const tp of allTensors(model)) {
      if (tp.data_location === 1) {
        const what = `initializer '${tp.name}'`;
        if (!opts.baseDir) throw new ModelLoadError(`${what} stores its data in an external file, but no model folder is known`);
        tp.raw_data = readExternalData(tp, opts.baseDir, what);
        tp.data_location = 0;
        tp.external_data = [];
        external = true;
      }
    }
    refuseNonFiniteWeights(model);
    return { model, external };
  });
}

function* allTensors(model: OnnxModelProto): Generator<OnnxTensorProto> {
  const graph = model.graph!;
  yield* graph.initializer;
  for (const node of graph.node) {
    for (const a of node.attribute) {
      if (a.t) yield a.t;
      yield* a.tensors ?? [];
    }
  }
}

/** The ONNX operator-set version the model declares, whatever it is. */
export function declaredOpset(model: OnnxModelProto): number {
  const entry = model.opset_import.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (!entry) throw new ModelLoadError('not a valid ONNX model: it declares no ONNX operator set');
  return toNumber(entry.version);
}

/** The declared opset, refused (ModelLoadError) outside the range the IR reads. */
export function opsetOf(model: OnnxModelProto): number {
  const v = declaredOpset(model);
  if (v < MIN_OPSET || v > MAX_OPSET) {
    throw new ModelLoadError(`ONNX opset ${v} is not supported (Blameboard reads opsets ${MIN_OPSET}–${MAX_OPSET}); re-export the model with an opset in that range`);
  }
  return v;
}

/**
 * The graph's declared inputs (initializers excluded) and outputs, read without decoding any
 * tensor or checking the opset: what onnxruntime will be fed, whether or not the IR can model the graph.
 */
export function declaredValues(model: OnnxModelProto): { inputs: IrValue[]; outputs: IrValue[] } {
  return guard(() => {
    const g = model.graph!;
    const initializerNames = new Set(g.initializer.map((tp) => tp.name));
    const inputs = g.input.filter((v) => !initializerNames.has(v.name)).map((v) => valueFromInfo(v, 'input', true));
    if (inputs.length === 0) throw new ModelLoadError('not a valid ONNX model: the graph has no input');
    const outputs = g.output.map((v) => valueFromInfo(v, 'output', false));
    if (outputs.length === 0) throw new ModelLoadError('not a valid ONNX model: the graph has no output');
    return { inputs, outputs };
  });
}

/** The decoded model as an IR graph, before folding and shape inference. */
export function irFromModel(model: OnnxModelProto): IrGraph {
  return guard(() => {
    const g = model.graph!;
    const opsetVersion = opsetOf(model);
    const initializers = new Map<string, Tensor>();
    for (const tp of g.initializer) {
      if (!tp.name) throw new ModelLoadError('not a valid ONNX model: an initializer has no name');
      initializers.set(tp.name, tensorFromProto(tp, `initializer '${tp.name}'`));
    }
    const { inputs, outputs } = declaredValues(model);
    const used = new Set<string>();
    const nodes = topologicalOrder(g.node.map((n, i) => nodeFromProto(n, i, used)));
    checkReferences(nodes, [...inputs.map((v) => v.name), ...initializers.keys()]);
    return {
      name: g.name ?? '',
      irVersion: toNumber(model.ir_version),
      opsetVersion,
      producerName: model.producer_name ?? '',
      inputs,
      outputs,
      initializers,
      nodes,
      values: new Map(),
    };
  });
}

/** Inputs that ONNX never lets a node leave out, beyond the first (which no operator makes optional). */
const REQUIRED_INPUTS: Readonly<Record<string, number>> = {
  Conv: 2, ConvTranspose: 2, Gemm: 2, MatMul: 2, Reshape: 2, BatchNormalization: 5, PRelu: 2, Where: 3,
  Add: 2, Sub: 2, Mul: 2, Div: 2, Pow: 2, Equal: 2, Greater: 2, Less: 2, GreaterOrEqual: 2, LessOrEqual: 2,
  And: 2, Or: 2, Xor: 2,
};
const ALL_REQUIRED = new Set(['Sum', 'Mean', 'Max', 'Min', 'Concat']);

/**
 * Every value a node reads must come from somewhere: a graph input, an initializer or a node, and
 * only optional inputs may be left out (an empty name). A dangling name (a deleted initializer, a
 * misspelt edge) would otherwise surface much later, in shape inference or the compiler, as an
 * internal error: onnxruntime's own check runs only when a session is made, which forward-only
 * work may never need.
 */
function checkReferences(nodes: IrNode[], given: string[]): void {
  const known = new Set(given);
  for (const n of nodes) for (const o of n.outputs) if (o) known.add(o);
  for (const n of nodes) {
    const required = ALL_REQUIRED.has(n.opType) ? n.inputs.length : Math.max(1, REQUIRED_INPUTS[n.opType] ?? 1);
    const left = n.inputs.findIndex((v, i) => v === '' && i < required);
    if (left >= 0 && (n.domain === '' || n.domain === 'ai.onnx')) {
      throw new ModelLoadError(`not a valid ONNX model: node '${n.name}' (${n.opType}) leaves out its required input ${left + 1}`);
    }
    const missing = n.inputs.find((v) => v !== '' && !known.has(v));
    if (missing !== undefined) {
      throw new ModelLoadError(`not a valid ONNX model: node '${n.name}' (${n.opType}) reads '${missing}', which no graph input, initializer or node produces`);
    }
  }
}

/**
 * The nodes in an order where each comes after the nodes it reads from (file order wherever that
 * already holds). ONNX asks writers for topological order but onnxruntime runs graphs without it,
 * and the IR's passes (shape inference, the compiler) rely on it. A cycle is refused.
 */
function topologicalOrder(nodes: IrNode[]): IrNode[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => o && !producer.has(o) && producer.set(o, i)));
  const readers: number[][] = nodes.map(() => []);
  const waiting = nodes.map((n, i) => {
    const from = new Set(n.inputs.map((v) => producer.get(v)).filter((p): p is number => p !== undefined && p !== i));
    for (const p of from) readers[p].push(i);
    return from.size + (n.inputs.some((v) => producer.get(v) === i) ? 1 : 0);
  });
  const sorted = nodes.every((n, i) => n.inputs.every((v) => (producer.get(v) ?? -1) < i));
  if (sorted) return nodes;
  // Kahn's algorithm, lowest file index first among the ready nodes.
  const ready: number[] = [];
  waiting.forEach((w, i) => w === 0 && ready.push(i));
  const order: IrNode[] = [];
  while (ready.length > 0) {
    let best = 0;
    for (let k = 1; k < ready.length; k++) if (ready[k] < ready[best]) best = k;
    const i = ready.splice(best, 1)[0];
    order.push(nodes[i]);
    for (const r of readers[i]) if (--waiting[r] === 0) ready.push(r);
  }
  if (order.length < nodes.length) {
    const stuck = nodes.find((_, i) => waiting[i] > 0)!;
    throw new ModelLoadError(`not a valid ONNX model: the graph has a cycle through node '${stuck.name}'`);
  }
  return order;
}

function valueFromInfo(v: OnnxValueInfoProto, kind: 'input' | 'output', required: boolean): IrValue {
  const tt = v.type?.tensor_type;
  if (!tt || !tt.elem_type) {
    if (required) throw new ModelLoadError(`graph ${kind} '${v.name}' is not a tensor with a known element type`);
    return { name: v.name, dtype: 'float32', shape: [] };
  }
  const dtype = dtypeFromOnnx(tt.elem_type, `graph ${kind} '${v.name}'`);
  if (!tt.shape) {
    if (required) throw new ModelLoadError(`graph ${kind} '${v.name}' has no shape`);
    return { name: v.name, dtype, shape: [] };
  }
  const shape: Dim[] = tt.shape.dim.map((d, i) => {
    // Whatever the exporter called the batch ('batch_size', 'N', …), the IR calls it 'N'.
    if (d.value === 'dim_value') return toNumber(d.dim_value);
    if (i === 0) return 'N';
    return d.value === 'dim_param' && d.dim_param ? d.dim_param : '?';
  });
  return { name: v.name, dtype, shape };
}

function nodeFromProto(n: OnnxNodeProto, index: number, used: Set<string>): IrNode {
  let name = n.name || `${n.op_type}_${index}`;
  while (used.has(name)) name += '_';
  used.add(name);
  const attributes: Record<string, Attribute> = {};
  for (const a of n.attribute) {
    const attr = attributeFromProto(a, `attribute '${a.name}' of node '${name}'`);
    if (attr) attributes[a.name] = attr;
  }
  return { name, opType: n.op_type, domain: n.domain === 'ai.onnx' ? '' : n.domain ?? '', inputs: [...n.input], outputs: [...n.output], attributes };
}

const utf8 = new TextDecoder();

function attributeFromProto(a: OnnxAttributeProto, what: string): Attribute | undefined {
  switch (a.type) {
    case AttributeType.FLOAT: return { type: 'float', value: a.f };
    case AttributeType.INT: return { type: 'int', value: toNumber(a.i) };
    case AttributeType.STRING: return { type: 'string', value: utf8.decode(a.s) };
    case AttributeType.TENSOR: return { type: 'tensor', value: tensorFromProto(a.t!, what) };
    case AttributeType.FLOATS: return { type: 'floats', value: [...a.floats] };
    case AttributeType.INTS: return { type: 'ints', value: a.ints.map((v) => toNumber(v)) };
    case AttributeType.STRINGS: return { type: 'strings', value: a.strings.map((s) => utf8.decode(s)) };
    // Graph/sparse/type attributes belong to control-flow ops the IR refuses anyway.
    default: return undefined;
  }
}

/** Runs `fn`, turning any non-Blameboard failure (protobufjs, a malformed field) into a one-line ModelLoadError. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isBlameboardError(e)) throw e;
    throw new ModelLoadError(`not a valid ONNX model: ${firstLine(e)}`, { cause: e });
  }
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}
