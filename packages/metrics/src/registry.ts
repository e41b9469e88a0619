import type { LoadedModel, Tensor } from '@blameboard/core';
import { resolveParams, UsageError, validateInputs, validateTargets } from '@blameboard/core';
import { explain, getMethod } from '@blameboard/methods';
import { complexity } from './complexity/complexity.js';
import { conservation } from './axioms/conservation.js';
import { continuity } from './robustness/continuity.js';
import { counterfactualBlame } from './faithfulness/counterfactual-blame.js';
import { groundTruth } from './ground-truth/ground-truth.js';
import { implementationInvariance } from './axioms/implementation-invariance.js';
import { randomization } from './randomization/randomization.js';
import { selectivity } from './faithfulness/selectivity.js';
import { sparseness } from './complexity/sparseness.js';
import type { Metric, MetricRequest, MetricResult } from './types.js';

/** Every metric, in the order `list metrics` shows them. Adding one is one file plus one line here. */
export const metrics: Metric[] = [
  selectivity,
  conservation,
  continuity,
  implementationInvariance,
  randomization,
  groundTruth,
  sparseness,
  complexity,
  counterfactualBlame,
];

export function getMetric(id: string): Metric {
  const metric = metrics.find((m) => m.id === id);
  if (!metric) throw new UsageError(`unknown metric '${id}'; known metrics: ${metrics.map((m) => m.id).join(', ')}`);
  return metric;
}

export interface EvaluateArgs {
  model: LoadedModel;
  inputs: Tensor;
  targets: Int32Array;
  metric: string;
  params?: Record<string, unknown>;
  /** Attributions to score; computed with `method` when absent and the metric scores attributions. */
  attributions?: Tensor;
  /** The method (and its parameters) that made the attributions, for metrics that re-explain. */
  method?: { id: string; params?: Record<string, unknown> };
  data?: MetricRequest['data'];
  /** Seed of every random choice (fills, paths, re-initialisation, bootstrap); default 0. */
  seed?: number;
  batchSize?: number;
  /** Memory budget in bytes (default: core's `defaultMemoryBudget()`). */
  memory?: number;
  biasRelevance?: MetricRequest['biasRelevance'];
  pairs?: MetricRequest['pairs'];
}

/**
 * Validates everything up front (metric id and parameters, method id and parameters, inputs,
 * targets, attribution shape) so a bad request fails with one line before any compute, then
 * runs the metric. The result is SPEC §6's `evaluate --out` document.
 */
export async function evaluate(args: EvaluateArgs): Promise<MetricResult> {
  const metric = getMetric(args.metric);
  const params = resolveParams(`metric '${metric.id}'`, metric.params, args.params);
  const n = args.inputs.shape[0];
  validateInputs(args.model, args.inputs);
  validateTargets(args.model, args.targets, n);
  const method = args.method
    ? { id: args.method.id, params: resolveParams(`method '${args.method.id}'`, getMethod(args.method.id).params, args.method.params) }
    : undefined;
  if (args.attributions && args.attributions.shape.join(',') !== args.inputs.shape.join(',')) {
    throw new UsageError(
      `attributions have shape [${args.attributions.shape.join(',')}] but the inputs have [${args.inputs.shape.join(',')}]`,
    );
  }
  if (metric.needs === 'method' && !method && !(metric.id === 'counterfactual-blame' && args.attributions)) {
    throw new UsageError(`metric '${metric.id}' re-explains the inputs: pass a method (--method), not only attributions`);
  }
  let attributions = args.attributions;
  let biasRelevance = args.biasRelevance;
  if (metric.needs === 'attributions' && !attributions) {
    if (!method) throw new UsageError(`metric '${metric.id}' needs attributions (--attributions) or a method (--method)`);
    const result = await explain({
      model: args.model,
      inputs: args.inputs,
      targets: args.targets,
      method: method.id,
      params: method.params,
      data: args.data,
      batchSize: args.batchSize,
      memory: args.memory,
    });
    attributions = result.attributions;
    biasRelevance = result.biasRelevance;
  }
  const result = await metric.evaluate({
    model: args.model,
    inputs: args.inputs,
    targets: args.targets,
    attributions,
    method,
    params,
    data: args.data,
    seed: args.seed ?? 0,
    batchSize: args.batchSize,
    memory: args.memory,
    biasRelevance,
    pairs: args.pairs,
  });
  // SPEC §6 key order: metric, params, values, curves?; then the bookkeeping.
  return {
    metric: result.metric,
    params: result.params,
    values: result.values,
    ...(result.curves ? { curves: result.curves } : {}),
    ...(result.invalid?.length ? { invalid: result.invalid } : {}),
    ...(result.skipped?.length ? { skipped: result.skipped } : {}),
  };
}
