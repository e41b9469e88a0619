import type { LoadedModel, ParamSpec, Tensor } from '@blameboard/core';
import type { DataContext, ExplainResult } from '@blameboard/methods';

export type Direction = 'higher' | 'lower';

/** One reported quantity of a metric (SPEC §6: `values: { NAME: … }`). */
export interface MetricValue {
  direction: Direction;
  /** Mean over valid samples (null when none is valid). */
  mean: number | null;
  /** Seeded 95% bootstrap interval of the mean. */
  ci95: [number, number] | null;
  /** Per sample; null marks an invalid sample (see `invalid`). */
  perSample: (number | null)[];
}

export interface MetricResult {
  metric: string;
  params: Record<string, unknown>;
  values: Record<string, MetricValue>;
  /** Selectivity's curves per sample for each order computed; null marks an invalid sample. */
  curves?: { morf?: (number[] | null)[]; lerf?: (number[] | null)[] };
  /** Samples excluded from the aggregate, with the reason (e.g. NaN in the attribution). */
  invalid?: { index: number; reason: string }[];
  /** Samples a metric does not apply to (null, not invalid), e.g. correctly classified ones for counterfactual-blame. */
  skipped?: { index: number; reason: string }[];
}

export interface MetricRequest {
  model: LoadedModel;
  inputs: Tensor;
  targets: Int32Array;
  /** Present for metrics that score given attributions. */
  attributions?: Tensor;
  /**
   * Present for metrics that re-explain (continuity, implementation invariance, randomization);
   * its parameters validated with the method's defaults filled (see `resolveParams`).
   */
  method?: { id: string; params: Record<string, unknown> };
  /** Validated metric parameters with defaults filled (see `resolveParams`). */
  params: Record<string, unknown>;
  data?: DataContext & {
    name?: string;
    groundTruth?: Float32Array;
    /** Gold labels (counterfactual-blame; default: the targets). */
    labels?: Int32Array;
    /** Per-class mean inputs [C, …] (counterfactual-blame's `class-mean` fill). */
    classMeans?: Tensor;
  };
  /** Bias relevance of the given attributions (`bias: explicit` LRP), for conservation. */
  biasRelevance?: ExplainResult['biasRelevance'];
  /** Equivalent models to compare (implementation-invariance), instead of the zoo's pairs. */
  pairs?: { id: string; a: LoadedModel; b: LoadedModel }[];
  seed?: number;
  /** Rows per onnxruntime run (default: derived from `memory`). */
  batchSize?: number;
  /** Memory budget in bytes (default: core's `defaultMemoryBudget()`). */
  memory?: number;
}

export interface Metric {
  id: string;
  description: string;
  /** 'attributions': scores given maps; 'method': re-explains with the method. */
  needs: 'attributions' | 'method';
  params: ParamSpec[];
  evaluate(request: MetricRequest): Promise<MetricResult>;
}
