import {
  cachedPool,
  cachedSession,
  defaultThreads,
  ParallelSession,
  parallelSetting,
  logitCost,
  compileExplanation,
  inferShapes,
  modelKey,
  rowBytesOf,
  ModelLoadError,
  UnsupportedOperatorError,
  WEIGHT_COPIES,
  weightBytes,
  writeOnnx,
  type CompileOptions,
  type CompiledGraph,
  type GraphCost,
  type IrGraph,
  type LoadedModel,
  type RowGraph,
  type RuleSet,
  type Tensor,
} from '@blameboard/core';
import { choiceStore, compileCacheDir, compileKey, dropCached, readCached, writeCached, type CachedMeta } from './compile-cache.js';

/** A compiled explanation graph's session, the names to feed and read, and its memory cost. */
export interface CompiledHandle extends RowGraph<ParallelSession> {
  meta: Omit<CompiledGraph, 'graph'>;
}

const metas = new Map<string, CachedMeta>();
/**
 * One ParallelSession per compiled graph and process (it keeps what it measured), with where
 * its sessions read the graph from: the latest compiledHandle call's source.
 */
const parallels = new Map<string, { session: ParallelSession; source: () => Uint8Array | string }>();

/** What one worker session holds besides the rows: its initializers, their prepacked copies, a thread and its V8 isolate. */
const WORKER_OVERHEAD_BYTES = 32 * 2 ** 20;

/** The model's IR, or a one-line error naming what kept the IR from modelling it (operators, opset, …). */
export function requireGraph(model: LoadedModel, methodId: string): IrGraph {
  if (model.graph) return model.graph;
  if (model.unsupported.length > 0) {
    throw new UnsupportedOperatorError(model.unsupported, `method '${methodId}' compiles the model's graph, which uses operators Blameboard cannot explain`);
  }
  throw new ModelLoadError(`method '${methodId}' compiles the model's graph, which Blameboard cannot read: ${model.graphError ?? 'unknown reason'}`);
}

/**
 * Bytes per row of a compiled graph's run: every value it computes (forward activations kept
 * for the backward pass, and the backward signals), from shape inference. The row cost used is
 * at least twice the forward pass's, for values shape inference cannot size.
 */
export function compiledRowBytes(compiled: IrGraph): number {
  const scratch: IrGraph = { ...compiled, outputs: [], values: new Map() };
  try {
    inferShapes(scratch);
  } catch {
    // An op shape inference cannot follow leaves its values unsized.
  }
  return rowBytesOf(scratch) ?? 0;
}

/**
 * Merges initializers with the same dtype, shape and bytes into one, e.g. a dense rule's Wᵀ that
 * is the model's own Gemm weight (transB = 1), or a flat rule's all-ones kernel and its flip:
 * the compiled graph then holds each weight tensor once, however many rules derived it.
 */
export function mergeEqualInitializers(graph: IrGraph): number {
  // Tensors are bucketed by dtype, shape and a sample of their bytes, and compared in full only
  // within a bucket: comparing each against every kept tensor of its size was quadratic in depth
  // (a 2,000-layer chain spent 11 s here).
  const buckets = new Map<string, string[]>();
  const keep = new Map<string, string>();
  const bytesOf = (name: string) => {
    const d = graph.initializers.get(name)!.data;
    return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  };
  for (const [name, t] of graph.initializers) {
    const key = `${t.dtype}|${t.shape.join(',')}|${byteSample(bytesOf(name))}`;
    const kept = buckets.get(key);
    if (!kept) {
      buckets.set(key, [name]);
      continue;
    }
    const same = kept.find((k) => bytesOf(k).equals(bytesOf(name)));
    if (same) keep.set(name, same);
    else kept.push(name);
  }
  if (keep.size === 0) return 0;
  const outputs = new Set(graph.outputs.map((o) => o.name));
  for (const [name] of keep) if (outputs.has(name)) keep.delete(name);
  for (const node of graph.nodes) node.inputs = node.inputs.map((i) => keep.get(i) ?? i);
  for (const name of keep.keys()) graph.initializers.delete(name);
  return keep.size;
}

/** A 32-bit FNV-1a hash of at most 64 bytes spread evenly over `bytes` (and its length): equal tensors agree. */
function byteSample(bytes: Uint8Array): string {
  let h = 0x811c9dc5 ^ bytes.length;
  const step = Math.max(1, Math.floor(bytes.length / 64));
  for (let i = 0; i < bytes.length; i += step) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0).toString(36);
}

/**
 * The session of `rules` compiled over the model, cached per (model, `configKey`): the key must
 * name everything that changes the compiled graph (method id and rule parameters). With the
 * disk cache on (`useCompileCache`, BLAMEBOARD_CACHE_DIR), a graph compiled by an earlier
 * process is loaded from disk instead of compiled again.
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
  const dir = compileCacheDir();
  let diskKeyMemo: string | undefined;
  const diskKey = () => (diskKeyMemo ??= compileKey(modelKey(model), methodId, configKey, opts));
  const compile = (): { bytes: Uint8Array; meta: CachedMeta } => {
    const compiled = compileExplanation(graph, rules(), opts);
    mergeEqualInitializers(compiled.graph);
    const { graph: g, ...meta } = compiled;
    const entry: CachedMeta = { meta, rowBytes: compiledRowBytes(g), weightBytes: weightBytes(g) };
    const bytes = writeOnnx(g);
    if (dir) writeCached(dir, diskKey(), bytes, entry);
    return { bytes, meta: entry };
  };

  let entry = metas.get(key);
  let fresh: Uint8Array | undefined;
  let onDisk: string | undefined;
  if (!entry && dir) {
    const hit = readCached(dir, diskKey());
    if (hit) ({ meta: entry, onnxPath: onDisk } = hit);
  }
  if (!entry) {
    // Compile errors (unsupported ops) surface here, before any session.
    ({ bytes: fresh, meta: entry } = compile());
  }
  metas.set(key, entry);
  let fromDisk = false;
  const source = (): Uint8Array | string => {
    if (fresh) return fresh;
    const path = onDisk ?? (dir ? readCached(dir, diskKey())?.onnxPath : undefined);
    fromDisk = path !== undefined;
    return path ?? compile().bytes;
  };
  const workers = defaultThreads();
  // Without the disk cache there is nowhere to keep a measured choice: one session, unless
  // BLAMEBOARD_PARALLEL says otherwise.
  const setting = parallelSetting() ?? (dir ? 'measure' : 'session');
  let held = parallels.get(key);
  if (!held) {
    const record: { session?: ParallelSession; source: () => Uint8Array | string } = { source };
    const batch = graph.inputs[0]?.shape[0];
    record.session = new ParallelSession({
      session: () => cachedSession(key, () => record.source()),
      pool: () => cachedPool(key, () => record.source(), workers),
      workers,
      // A model exported with a fixed batch keeps it in its compiled graph: padded runs, one session.
      ...(typeof batch === 'number' && batch > 0 ? { fixedBatch: batch } : {}),
      store: dir && setting === 'measure' ? choiceStore(dir, diskKey()) : null,
      mode: setting,
    });
    held = record as { session: ParallelSession; source: () => Uint8Array | string };
    parallels.set(key, held);
  }
  held.source = source;
  const session = held.session;
  try {
    await session.open();
  } catch (e) {
    if (!fromDisk || !(e instanceof ModelLoadError)) throw e;
    // A damaged cache entry: drop it and compile afresh.
    dropCached(dir!, diskKey());
    ({ bytes: fresh, meta: entry } = compile());
    metas.set(key, entry);
    onDisk = undefined;
    fromDisk = false;
    await session.open();
  }
  // onnxruntime holds its copy; the JS bytes may go, unless worker sessions may still need them
  // and there is no file to read (no disk cache).
  if (dir || setting === 'session') fresh = undefined;
  const forward = logitCost(model);
  const cost: GraphCost = {
    rowBytes: Math.max(entry.rowBytes, 2 * forward.rowBytes),
    fixedBytes: forward.fixedBytes + WEIGHT_COPIES * entry.weightBytes,
  };
  return { session, meta: entry.meta, cost, workerBytes: workers > 1 ? workers * (2 * entry.weightBytes + WORKER_OVERHEAD_BYTES) : 0 };
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
