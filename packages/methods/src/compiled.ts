import { createHash } from 'node:crypto';
import {
  cachedSession,
  compileExplanation,
  ModelLoadError,
  sizeOf,
  UnsupportedOperatorError,
  writeOnnx,
  type CompileOptions,
  type CompiledGraph,
  type IrGraph,
  type LoadedModel,
  type OnnxSession,
  type RuleSet,
  type Tensor,
} from '@blameboard/core';

/** Rows per onnxruntime run when the caller does not say: bounds memory for every method. */
export const DEFAULT_BATCH_SIZE = 64;

/** A compiled explanation graph's session and the names to feed and read. */
export interface CompiledHandle {
  session: OnnxSession;
  meta: Omit<CompiledGraph, 'graph'>;
  /** Set when the model fixes its batch (e.g. exported with batch 1): runs then use exactly that many rows. */
  fixedBatch?: number;
}

const metas = new Map<string, Omit<CompiledGraph, 'graph'> & { fixedBatch?: number }>();
const digests = new WeakMap<Uint8Array, string>();

/** Cache identity of a model: its sha256, or the logit graph's digest for models built in memory. */
export function modelKey(model: LoadedModel): string {
  if (model.sha256) return model.sha256;
  let d = digests.get(model.logitOnnx);
  if (!d) {
    d = createHash('sha256').update(model.logitOnnx).digest('hex');
    digests.set(model.logitOnnx, d);
  }
  return d;
}

/** The model's IR, or a one-line error naming what kept the IR from modelling it (operators, opset, …). */
export function requireGraph(model: LoadedModel, methodId: string): IrGraph {
  if (model.graph) return model.graph;
  if (model.unsupported.length > 0) {
    throw new UnsupportedOperatorError(model.unsupported, `method '${methodId}' compiles the model's graph, which uses operators Blameboard cannot explain`);
  }
  throw new ModelLoadError(`method '${methodId}' compiles the model's graph, which Blameboard cannot read: ${model.graphError ?? 'unknown reason'}`);
}

/**
 * The session of `rules` compiled over the model, cached per (model, `configKey`): the key must
 * name everything that changes the compiled graph (method id and rule parameters).
 */
export async function compiledHandle(
  model: LoadedModel,
  methodId: string,
  configKey: string,
  rules: () => RuleSet,
  opts: CompileOptions,
): Promise<CompiledHandle> {
  const graph = requireGraph(model, methodId);
  const key = `compiled:${modelKey(model)}:${configKey}`;
  let compiledNow: CompiledGraph | undefined;
  const compile = () => {
    if (!compiledNow) compiledNow = compileExplanation(graph, rules(), opts);
    return compiledNow;
  };
  if (!metas.has(key)) compile(); // compile errors (unsupported ops) surface here, before any session
  const session = await cachedSession(key, () => writeOnnx(compile().graph));
  if (!metas.has(key)) {
    const { graph: g, ...meta } = compile();
    const batch = g.inputs[0].shape[0];
    metas.set(key, { ...meta, fixedBatch: typeof batch === 'number' ? batch : undefined });
  }
  const { fixedBatch, ...meta } = metas.get(key)!;
  return { session, meta, fixedBatch };
}

/**
 * Runs a session on feeds of n rows; a fixed-batch model gets chunks of exactly its batch, the
 * last one zero-padded and its padding dropped from the outputs.
 */
export async function runRows(session: OnnxSession, feeds: Record<string, Tensor>, fixedBatch?: number): Promise<Record<string, Tensor>> {
  const n = Object.values(feeds)[0].shape[0];
  if (fixedBatch === undefined || n === fixedBatch) return session.run(feeds);
  const outs: Record<string, Tensor[]> = {};
  for (let start = 0; start < n; start += fixedBatch) {
    const end = Math.min(n, start + fixedBatch);
    const chunk: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) chunk[name] = padRows(t, start, end, fixedBatch);
    const out = await session.run(chunk);
    for (const [name, t] of Object.entries(out)) (outs[name] ??= []).push(takeRows(t, end - start));
  }
  const result: Record<string, Tensor> = {};
  for (const [name, parts] of Object.entries(outs)) result[name] = concatRows(parts);
  return result;
}

function padRows(t: Tensor, start: number, end: number, rows: number): Tensor {
  const per = sizeOf(t.shape.slice(1));
  const data = new Float32Array(rows * per);
  data.set((t.data as Float32Array).subarray(start * per, end * per));
  return { dtype: t.dtype, shape: [rows, ...t.shape.slice(1)], data };
}

function takeRows(t: Tensor, rows: number): Tensor {
  const per = sizeOf(t.shape.slice(1));
  return { dtype: t.dtype, shape: [rows, ...t.shape.slice(1)], data: t.data.slice(0, rows * per) as Tensor['data'] };
}

function concatRows(parts: Tensor[]): Tensor {
  const rows = parts.reduce((n, p) => n + p.shape[0], 0);
  const per = sizeOf(parts[0].shape.slice(1));
  const data = new Float32Array(rows * per);
  let offset = 0;
  for (const p of parts) {
    data.set(p.data as Float32Array, offset);
    offset += p.data.length;
  }
  return { dtype: parts[0].dtype, shape: [rows, ...parts[0].shape.slice(1)], data };
}

/** Seeds [n, C]: 1 at each row's target, 0 elsewhere (∂f_t/∂logits). */
export function oneHot(targets: ArrayLike<number>, classes: number): Tensor {
  const data = new Float32Array(targets.length * classes);
  for (let i = 0; i < targets.length; i++) data[i * classes + targets[i]] = 1;
  return { dtype: 'float32', shape: [targets.length, classes], data };
}

/** The samples as the float32 feed a compiled graph takes: the caller's tensor itself when it already is one. */
export function float32Feed(inputs: Tensor): Tensor {
  if (inputs.dtype === 'float32' && inputs.data instanceof Float32Array) return inputs;
  return { dtype: 'float32', shape: inputs.shape, data: Float32Array.from(inputs.data as ArrayLike<number>) };
}
