import { aggregateResults } from '../leaderboard/build.js';
import type { CellResult, MetricConfig, ModelInfo, ResultsDocument, SampleLine } from '../types.js';

/** A model with n samples for synthetic leaderboards. */
export function modelInfo(id: string, samples: number): ModelInfo {
  return { id, sha256: '0'.repeat(64), dataset: 'synthetic', samples, sampleKey: 'k', inputShape: [4] };
}

export const selectivityConfig: MetricConfig = { label: 'selectivity', metric: 'selectivity', params: {} };
export const conservationConfig: MetricConfig = { label: 'conservation', metric: 'conservation', params: {} };

export interface RowSpec {
  key: string;
  method: string;
  family?: string;
  axes?: Record<string, unknown>;
  status?: CellResult['status'];
  /** Per-sample ABPC (higher is better). */
  abpc: (number | null)[];
  /** Per-sample relative error (lower is better). */
  error?: (number | null)[];
}

/** Cells and sample lines of one model from per-sample values (summaries left for aggregation). */
export function synthetic(model: string, rows: RowSpec[]): { cells: CellResult[]; samples: SampleLine[] } {
  const cells: CellResult[] = [];
  const samples: SampleLine[] = [];
  for (const r of rows) {
    const status = r.status ?? 'ok';
    const metrics: CellResult['metrics'] = [];
    if (status === 'ok') {
      metrics.push({ config: 'selectivity', status: 'ok', key: `${r.key}-s`, values: { abpc: { direction: 'higher', mean: null, ci95: null, n: 0 } } });
      samples.push({ cell: r.key, config: 'selectivity', value: 'abpc', direction: 'higher', perSample: r.abpc });
      if (r.error) {
        metrics.push({ config: 'conservation', status: 'ok', key: `${r.key}-c`, values: { relativeError: { direction: 'lower', mean: null, ci95: null, n: 0 } } });
        samples.push({ cell: r.key, config: 'conservation', value: 'relativeError', direction: 'lower', perSample: r.error });
      }
    }
    const axes = r.axes ?? {};
    const family = r.family ?? r.method;
    const axisText = Object.entries(axes).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
    cells.push({
      key: r.key,
      model,
      family,
      method: r.method,
      params: { ...axes },
      axes,
      label: axisText ? `${family} ${axisText}` : family,
      control: ['uniform', 'edge', 'random'].includes(r.method),
      status,
      ...(status !== 'ok' ? { reason: 'attributions hold 3 NaN in 1 sample (first: sample 0)' } : {}),
      metrics,
      cost: { explainMsPerSample: 1, metricsMs: 2, peakRssBytes: 100 * 2 ** 20, extraRssBytes: 2 ** 20 },
    });
  }
  return { cells, samples };
}

/** n values around `center` with a fixed spread (deterministic). */
export function around(center: number, n: number, spread = 0.1): number[] {
  return Array.from({ length: n }, (_, i) => center + spread * Math.sin(i * 1.7));
}

/** A whole, schema-valid results document over one synthetic model. */
export function resultsDocument(model = 'm', n = 12): { results: ResultsDocument; samples: SampleLine[] } {
  const { cells, samples } = synthetic(model, [
    { key: 'k-lrp0', method: 'lrp', family: 'lrp gamma', axes: { gamma: 0 }, abpc: around(0.5, n), error: around(0.2, n, 0.01) },
    { key: 'k-lrp1', method: 'lrp', family: 'lrp gamma', axes: { gamma: 0.25 }, abpc: around(0.6, n), error: around(0.1, n, 0.01) },
    { key: 'k-grad', method: 'gradient', abpc: around(0.2, n), error: around(0.9, n, 0.01) },
    { key: 'k-uni', method: 'uniform', abpc: around(0, n), error: around(0, n, 0.001) },
    { key: 'k-nan', method: 'smoothgrad', status: 'invalid', abpc: [] },
  ]);
  const models = [modelInfo(model, n)];
  const metricConfigs = [selectivityConfig, conservationConfig];
  const agg = aggregateResults({ models, metricConfigs, cells, samples, seed: 0 });
  return {
    results: {
      schema: 'blameboard-results',
      schemaVersion: 1,
      config: { name: 'test' },
      configHash: 'a'.repeat(64),
      versions: { methods: '0.1.0' },
      seed: 0,
      models,
      metricConfigs,
      cells: agg.cells,
      leaderboards: agg.leaderboards,
      runs: [
        {
          environment: { node: 'v20', platform: 'linux-x64', cpu: 'cpu', cpus: 2, threads: 2, onnxruntime: '1.30.0', tfjs: null, gitCommit: null, hostname: 'h' },
          phases: { plan: 1, compute: 2, aggregate: 3, render: 4 },
          started: '2026-11-29T00:00:00.000Z',
          shard: null,
          computedCells: 5,
          cachedCells: 0,
        },
      ],
    },
    samples,
  };
}
