import {
  cachedSession,
  compileExplanation,
  inferShapes,
  modelKey,
  rowBytesOf,
  UnsupportedOperatorError,
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

/** A compiled explanation graph's session, the names to feed and read, and its memory cost. */
export interface CompiledHandle extends RowGraph {
  meta: Omit<CompiledGraph, 'graph'>;
}

const metas = new Map<string, { meta: Omit<CompiledGraph, 'graph'>; cost: GraphCost }>();

/** The model's IR, or UnsupportedOperatorError naming what kept the IR from modelling it. */
export function requireGraph(model: LoadedModel, methodId: string): IrGraph {
  if (model.graph) return model.graph;
  const ops = model.unsupported.length > 0 ? model.unsupported : [{ opType: '(unknown)', name: model.id }];
  throw new UnsupportedOperatorError(ops, `method '${methodId}' compiles the model's graph, which uses operators Blameboard cannot explain`);
}

/**
 * What a compiled graph costs: its weights, and per row every value it computes (forward
 * activations kept for the backward pass, and the backward signals), from shape inference.
 */
export function compiledCost(compiled: CompiledGraph, forward: IrGraph): GraphCost {
  const scratch: IrGraph = { ...compiled.graph, outputs: [], values: new Map() };
  try {
    inferShapes(scratch);
  } catch {
    // An op shape inference cannot follow leaves its values unsized; the forward graph's bound stands.
  }
  const rowBytes = Math.max(rowBytesOf(scratch) ?? 0, 2 * (rowBytesOf(forward) ?? 0));
  return { rowBytes, weightBytes: weightBytes(compiled.graph) };
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
    const compiled = compile();
    const { graph: _graph, ...meta } = compiled;
    metas.set(key, { meta, cost: compiledCost(compiled, graph) });
  }
  const { meta, cost } = metas.get(key)!;
  return { session, meta, cost };
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
