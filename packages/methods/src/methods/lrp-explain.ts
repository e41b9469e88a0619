import { foldBatchNorm, linearLayers, runRows, sizeOf, UsageError, type BatchNormMerge, type IrGraph, type Tensor } from '@blameboard/core';
import { compiledHandle, float32Feed, oneHot, requireGraph } from '../compiled.js';
import { parseBound, type RuleParams } from '../rules/lrp/composites.js';
import type { Bound } from '../rules/lrp/z-box.js';
import { biasOutputName, lrpRuleSet, type LrpSettings } from '../rules/lrp/ruleset.js';
import type { DataContext, ExplainRequest, ExplainResult } from '../types.js';

const folded = new WeakMap<IrGraph, Map<BatchNormMerge, IrGraph>>();

/** The model's graph with BatchNorms folded into the layers before them (Zennit's canonizer), merged as `merge` says. */
export function canonicalGraph(graph: IrGraph, merge: BatchNormMerge): IrGraph {
  let byMerge = folded.get(graph);
  if (!byMerge) {
    byMerge = new Map();
    folded.set(graph, byMerge);
  }
  let g = byMerge.get(merge);
  if (!g) {
    g = foldBatchNorm(graph, merge);
    byMerge.set(merge, g);
  }
  return g;
}

/**
 * z-box bounds: the given `low`/`high`, else the data's exact input bounds (per channel for
 * preprocessed images), else the data's input range, else the min/max of the inputs being explained.
 */
export function resolveBounds(params: Record<string, unknown>, data: DataContext | undefined, inputs: Tensor): { low: Bound; high: Bound } {
  let fallback: [number, number] | undefined = data?.range;
  const bound = (name: 'low' | 'high'): Bound => {
    if (params[name] !== undefined) return parseBound(params[name], `LRP parameter '${name}'`);
    if (data?.inputBounds) return data.inputBounds[name];
    if (!fallback) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < inputs.data.length; i++) {
        const v = Number(inputs.data[i]);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      fallback = [lo, hi];
    }
    return name === 'low' ? fallback[0] : fallback[1];
  };
  const low = bound('low');
  const high = bound('high');
  if (typeof low === 'number' && typeof high === 'number' && low > high) {
    throw new UsageError(`LRP z-box bounds need low ≤ high, got low = ${low}, high = ${high}`);
  }
  return { low, high };
}

/**
 * Compiles (once per model and configuration) and runs an LRP rule set over the graph with its
 * BatchNorms folded as `batchNormMerge` says; R starts as f_t(x) of that graph at the target.
 */
export async function explainWithLrp(
  request: ExplainRequest,
  methodId: string,
  settings: LrpSettings,
  batchNormMerge: BatchNormMerge,
  configKey: string,
): Promise<ExplainResult> {
  const { model, inputs, targets } = request;
  const graph = canonicalGraph(requireGraph(model, methodId), batchNormMerge);
  // Non-negative inputs (pixels) get a graph without the x⁻ passes of the first layer's rule.
  const inputNonNegative = allNonNegative(inputs);
  const compiledSettings = { ...settings, inputNonNegative };
  const handle = await compiledHandle({ ...model, graph }, methodId, `${configKey}:bn-${batchNormMerge}:${inputNonNegative ? 'x≥0' : 'x'}`, () => lrpRuleSet(compiledSettings), {
    start: 'seed-times-output',
  });
  const { meta } = handle;
  const n = inputs.shape[0];
  const rowShape = inputs.shape.slice(1);
  const per = sizeOf(rowShape);
  const classes = model.outputSize;
  const attributions = new Float32Array(n * per);
  const layers = linearLayers(graph);
  const biasNames = layers.map((_, i) => meta.extraOutputs[biasOutputName(i)]);
  const bias = layers.map(() => new Array<number>(n).fill(0));

  await runRows(handle, {
    feeds: { [meta.inputNames.input]: float32Feed(inputs), [meta.inputNames.seed]: oneHot(targets, classes) },
    rows: n,
    budget: request,
    consume(start, count, outputs) {
      attributions.set(outputs[meta.outputNames[0]].data as Float32Array, start * per);
      biasNames.forEach((name, i) => {
        if (!name) return;
        const b = outputs[name].data;
        const stride = b.length / count;
        for (let r = 0; r < count; r++) bias[i][start + r] = Number(b[r * stride]);
      });
    },
  });

  const result: ExplainResult = { attributions: { dtype: 'float32', shape: [...inputs.shape], data: attributions } };
  if (settings.bias === 'explicit') {
    result.biasRelevance = layers.map((node, i) => ({ layer: node.name || `${node.opType}#${i}`, perSample: bias[i] }));
  }
  return result;
}

/** Whether every input is ≥ 0 (false on NaN), stopping at the first that is not. */
function allNonNegative(t: Tensor): boolean {
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (!(Number(d[i]) >= 0)) return false;
  return true;
}

/** Rule parameters shared by the LRP methods' settings, from resolved `lrp` parameters (see `lrpParams`). */
export function ruleParams(params: Record<string, unknown>, bounds: { low: Bound; high: Bound }): RuleParams {
  return {
    epsilon: params.epsilon as number,
    gamma: params.gamma as number,
    alpha: params.alpha as number,
    beta: params.beta as number,
    low: bounds.low,
    high: bounds.high,
  };
}
