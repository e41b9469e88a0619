/**
 * The data a sweep produces and reports render: what `results.json` and `samples.ndjson` hold.
 * `results.json` is the aggregate (validated against `schema/results.schema.json`); the
 * per-sample values live in `samples.ndjson`, one line per (cell, metric configuration, value).
 */

export type Direction = 'higher' | 'lower';

/** A cell is `ok`, `invalid` (the method produced NaN/Inf) or `error` (it could not run). */
export type CellStatus = 'ok' | 'invalid' | 'error';

/** A metric configuration on one cell: computed, or `skipped` (does not apply) or `error`. */
export type MetricStatus = 'ok' | 'skipped' | 'error';

/** One model of the sweep: one leaderboard. */
export interface ModelInfo {
  /** The name rows are grouped by: a zoo id or the config's label for an ONNX file. */
  id: string;
  /** sha256 of the model file's bytes. */
  sha256: string;
  dataset: string;
  /** Samples explained (the same set for every cell of the model). */
  samples: number;
  /** Content key of the sample set (inputs and targets). */
  sampleKey: string;
  /** Per-sample input shape. */
  inputShape: number[];
  /** Image layout of a sample when it is an image (heatmaps are drawn in it). */
  imageShape?: number[];
  /** The equivalent twin used by implementation-invariance, when there is one. */
  pair?: string;
}

/** One configuration of one metric, e.g. `selectivity[fill=blur]`. */
export interface MetricConfig {
  /** Unique label: the metric id, plus the grid values when the metric has a grid. */
  label: string;
  metric: string;
  /** Resolved parameters (defaults filled). */
  params: Record<string, unknown>;
}

/** One reported value of one metric configuration on one cell. */
export interface ValueSummary {
  direction: Direction;
  /** Mean over valid samples; null when none is valid. */
  mean: number | null;
  /** 95% paired bootstrap interval of the mean (the leaderboard's resample indices). */
  ci95: [number, number] | null;
  /** Valid samples. */
  n: number;
}

export interface CellMetricResult {
  /** MetricConfig.label. */
  config: string;
  status: MetricStatus;
  reason?: string;
  /** Content key of this metric result in the sweep's cache. */
  key: string;
  values: Record<string, ValueSummary>;
  /** Selectivity: the mean MoRF/LeRF curves over valid samples (y_0…y_L). */
  curves?: { morf?: number[]; lerf?: number[] };
  /** Samples the metric excluded (NaN/Inf), with the first reason. */
  invalidSamples?: number;
}

/** Wall time and peak memory of a cell, measured by the runner (not part of any comparison). */
export interface CellCost {
  /** Attribution time per sample, ms. */
  explainMsPerSample: number;
  /** All metrics of the cell, ms. */
  metricsMs: number;
  /** Peak resident memory of the process while the cell ran (VmHWM reset before it), bytes; null where unmeasurable. */
  peakRssBytes: number | null;
  /** Peak minus the resident memory when the cell started: what the cell itself added; null where unmeasurable. */
  extraRssBytes: number | null;
}

/** One method configuration of a sweep: a leaderboard row on every model. */
export interface MethodConfiguration {
  /** The config's method entry it comes from (its label): the best γ is chosen within a family. */
  family: string;
  method: string;
  /** Resolved parameters (defaults filled). */
  params: Record<string, unknown>;
  /** The values of the family's grid axes for this configuration, e.g. { gamma: 0.25 }. */
  axes: Record<string, unknown>;
  /** Row label: the family label and the axes. */
  label: string;
  /** Control methods (uniform, edge, random) are shown as such. */
  control: boolean;
}

/** One (model, method configuration): one leaderboard row. */
export interface CellResult extends MethodConfiguration {
  /** Content key: model bytes, sample set, method id + resolved parameters, package versions. */
  key: string;
  model: string;
  status: CellStatus;
  reason?: string;
  metrics: CellMetricResult[];
  cost: CellCost;
}

/** One leaderboard column: one value of one metric configuration. */
export interface Column {
  /** `${config}.${value}`, e.g. `selectivity[fill=uniform].abpc`. */
  id: string;
  config: string;
  metric: string;
  value: string;
  direction: Direction;
  /** The metric's first value (ABPC, relative error, …): ranked into the mean rank and the agreement matrix. */
  primary: boolean;
}

export type RowFlag = 'uninformative' | 'edge-detector';

export interface ColumnEntry {
  mean: number;
  ci95: [number, number] | null;
  n: number;
  /** 1 = best; ties share the average rank. */
  rank: number;
}

export interface LeaderboardRow {
  cell: string;
  label: string;
  family: string;
  method: string;
  axes: Record<string, unknown>;
  control: boolean;
  status: CellStatus;
  reason?: string;
  /** Per column id; absent where the row has no valid value. */
  values: Record<string, ColumnEntry>;
  /** Mean of the ranks over the primary columns the row has. */
  meanRank: number | null;
  /** Rank on the headline column and its 95% bootstrap interval. */
  headlineRank: number | null;
  rankInterval: [number, number] | null;
  /** Not clearly better than the uniform control / the edge control on the headline (CI not above theirs). */
  flags: RowFlag[];
}

export interface BestConfiguration {
  family: string;
  cell: string;
  label: string;
  axes: Record<string, unknown>;
  headline: number | null;
}

export interface Agreement {
  /** Primary column ids, in column order. */
  columns: string[];
  /** Kendall τ-b between the rankings two columns give the rows both score; null with fewer than 3 such rows. */
  tau: (number | null)[][];
}

export interface Leaderboard {
  model: string;
  dataset: string;
  samples: number;
  /** The headline column (the first selectivity configuration's ABPC), null without selectivity. */
  headline: string | null;
  columns: Column[];
  /** Valid rows by mean rank, then invalid/error rows in config order. */
  rows: LeaderboardRow[];
  best: BestConfiguration[];
  agreement: Agreement;
}

export interface Environment {
  node: string;
  platform: string;
  cpu: string;
  cpus: number;
  /** onnxruntime intra-op threads. */
  threads: number;
  onnxruntime: string;
  /** tfjs packages and backend, when tfjs was loaded by the run (ONNX work never loads it). */
  tfjs: { version: string; backend: string | null } | null;
  gitCommit: string | null;
  hostname: string;
}

/** What a run measured: never part of a comparison between runs (everything else is deterministic). */
export interface RunRecord {
  environment: Environment;
  /** ms per phase: plan, compute, aggregate, render. */
  phases: Record<string, number>;
  started: string;
  /** Shard K/N and cells computed (not cached) in this run. */
  shard: string | null;
  computedCells: number;
  cachedCells: number;
}

export interface ResultsDocument {
  schema: 'blameboard-results';
  schemaVersion: 1;
  /** The resolved sweep configuration (after --quick / --samples). */
  config: Record<string, unknown>;
  configHash: string;
  /** Package versions (and build digests) the cache keys include. */
  versions: Record<string, string>;
  seed: number;
  models: ModelInfo[];
  metricConfigs: MetricConfig[];
  cells: CellResult[];
  leaderboards: Leaderboard[];
  /** Timings and environment of the run(s) that produced the cells; merged shards keep each shard's. */
  runs: RunRecord[];
}

/** One line of `samples.ndjson`: a value's per-sample numbers for one cell (null: invalid/skipped). */
export interface SampleLine {
  cell: string;
  config: string;
  value: string;
  direction: Direction;
  perSample: (number | null)[];
}
