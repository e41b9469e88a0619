import { existsSync } from 'node:fs';
import { InputError, loadNpy, sizeOf, type Tensor } from '@blameboard/core';
import {
  aggregateResults,
  type CellMetricResult,
  type CellResult,
  type HeatmapGrid,
  type ResultsDocument,
  type RunRecord,
  type SampleLine,
} from '@blameboard/reports';
import { metricKey } from './plan.js';
import type { Manifest, SweepStore } from './store.js';

/**
 * Results from a sweep folder's cache and its manifest alone (no model is loaded): the cells in
 * config order, their per-sample values, and the aggregate. Identical for a whole run, a resumed
 * run and merged shards, because nothing here depends on which process computed a cell.
 */
export function collectResults(manifest: Manifest, store: SweepStore, runs: RunRecord[]): { results: ResultsDocument; samples: SampleLine[] } {
  const samples: SampleLine[] = [];
  const cells: CellResult[] = [];
  const missing: string[] = [];
  const pairOf = new Map(manifest.models.map((m) => [m.id, m.pairSha256]));
  for (const c of manifest.cells) {
    const record = store.cell(c.key);
    if (!record) {
      missing.push(c.label);
      continue;
    }
    const metrics: CellMetricResult[] = [];
    let metricsMs = 0;
    if (record.status === 'ok') {
      for (const config of manifest.metricConfigs) {
        const key = metricKey(c.key, config, manifest.seed, pairOf.get(c.model) ?? null, manifest.versions);
        const m = store.metric(key);
        if (!m) {
          missing.push(`${c.label} / ${config.label}`);
          continue;
        }
        metricsMs += m.ms;
        const values: CellMetricResult['values'] = {};
        for (const [name, v] of Object.entries(m.values)) {
          values[name] = { direction: v.direction, mean: null, ci95: null, n: 0 };
          samples.push({ cell: c.key, config: config.label, value: name, direction: v.direction, perSample: v.perSample });
        }
        metrics.push({
          config: config.label,
          status: m.status,
          ...(m.reason ? { reason: m.reason } : {}),
          key,
          values,
          ...(m.curves ? { curves: m.curves } : {}),
          ...(m.invalidSamples ? { invalidSamples: m.invalidSamples } : {}),
        });
      }
    }
    cells.push({
      ...c,
      status: record.status,
      ...(record.reason ? { reason: record.reason } : {}),
      metrics,
      cost: {
        explainMsPerSample: record.explainMs / Math.max(1, record.samples),
        metricsMs,
        peakRssBytes: record.peakRssBytes,
        extraRssBytes: record.peakRssBytes !== null && record.startRssBytes !== undefined ? Math.max(0, record.peakRssBytes - record.startRssBytes) : null,
      },
    });
  }
  if (missing.length) {
    throw new InputError(`${store.dir} lacks ${missing.length} result${missing.length === 1 ? '' : 's'} (first: ${missing[0]}); finish the sweep with --resume (or merge every shard)`);
  }
  const models = manifest.models.map(({ pairSha256: _p, ...m }) => m);
  const { cells: summarized, leaderboards } = aggregateResults({ models, metricConfigs: manifest.metricConfigs, cells, samples, seed: manifest.seed });
  return {
    results: {
      schema: 'blameboard-results',
      schemaVersion: 1,
      config: manifest.config,
      configHash: manifest.configHash,
      versions: manifest.versions,
      seed: manifest.seed,
      models,
      metricConfigs: manifest.metricConfigs,
      cells: summarized,
      leaderboards,
      runs,
    },
    samples,
  };
}

/**
 * The heatmap grid of each model: its fixed samples, and the maps of the best configuration of
 * every family with a grid plus every single-configuration method, in leaderboard order.
 */
export function heatmapGrids(results: ResultsDocument, store: SweepStore): HeatmapGrid[] {
  const grids: HeatmapGrid[] = [];
  results.models.forEach((model, i) => {
    const file = store.samplesFile(i);
    const board = results.leaderboards.find((b) => b.model === model.id);
    if (!board || !existsSync(file)) return;
    const inputs = loadNpy(file);
    const k = inputs.shape[0];
    const best = new Set(board.best.map((b) => b.cell));
    const families = new Map<string, number>();
    for (const r of board.rows) families.set(r.family, (families.get(r.family) ?? 0) + 1);
    const rows: HeatmapGrid['rows'] = [];
    for (const row of board.rows) {
      if (row.status !== 'ok' || !(best.has(row.cell) || families.get(row.family) === 1)) continue;
      const a = store.attributions(row.cell);
      if (a) rows.push({ cell: row.cell, label: row.label, attributions: firstRows(a, k) });
    }
    grids.push({ model: model.id, inputs, imageShape: model.imageShape, rows });
  });
  return grids;
}

export function firstRows(t: Tensor, k: number): Tensor {
  const per = sizeOf(t.shape.slice(1));
  const n = Math.min(k, t.shape[0]);
  return { dtype: t.dtype, shape: [n, ...t.shape.slice(1)], data: t.data.slice(0, n * per) as Tensor['data'] };
}
