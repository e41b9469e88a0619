import type { LoadedModel, ParamSpec, Tensor } from '@blameboard/core';

/** What a method may know about the data beyond the inputs (baselines, input range, priors). */
export interface DataContext {
  /** Per-feature dataset mean, per-sample shape (for `baseline: mean`). */
  mean?: Tensor;
  /** Input value range [low, high] (uniform baselines, z-box bounds). */
  range?: [number, number];
  /**
   * Lowest and highest value of each input element where they are known exactly, a number or one
   * per channel (or per element): image inputs give the preprocessed range of [0, 1] pixels,
   * (0 − mean)/std … (1 − mean)/std per channel. LRP's z-box bounds default to it before `range`.
   */
  inputBounds?: { low: number | readonly number[]; high: number | readonly number[] };
  /** Reference inputs [M, …] (blame's dataset prior). */
  reference?: Tensor;
  /**
   * Image layout of a sample, e.g. [1, 28, 28], for models taking flattened images ([N, 784]):
   * when its element count equals the per-sample size, blurs, region grids and translations use
   * it instead of the model's input shape. Ignored otherwise.
   */
  imageShape?: number[];
}

export interface ExplainRequest {
  model: LoadedModel;
  /** [N, …] float32. */
  inputs: Tensor;
  /** Target index per sample. */
  targets: Int32Array;
  /** Validated parameters with defaults filled (see `resolveParams`). */
  params: Record<string, unknown>;
  data?: DataContext;
  /** Rows per onnxruntime run; default: the most the memory budget holds for the graph (core's `rowsPerRun`). */
  batchSize?: number;
  /** Memory budget of the process in bytes (default: core's `defaultMemoryBudget()`). */
  memory?: number;
}

export interface ExplainResult {
  /** Shape of the inputs, float32. */
  attributions: Tensor;
  /** `bias: explicit` LRP: each linear layer's bias relevance, per sample. */
  biasRelevance?: { layer: string; perSample: number[] }[];
}

export interface AttributionMethod {
  id: string;
  description: string;
  /** 'compiled' needs the IR (gradient/rule graphs); 'forward' runs only the model's own ONNX. */
  kind: 'compiled' | 'forward';
  params: ParamSpec[];
  explain(request: ExplainRequest): Promise<ExplainResult>;
}
