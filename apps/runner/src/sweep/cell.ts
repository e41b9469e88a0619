import { readFileSync, writeFileSync } from 'node:fs';
import { isBlameboardError, type Tensor } from '@blameboard/core';
import { explain, type ExplainArgs } from '@blameboard/methods';
import { evaluate, type MetricResult } from '@blameboard/metrics';
import type { MetricConfig } from '@blameboard/reports';
import { findNonFinite, nonFiniteCounts } from '../non-finite.js';
import { firstRows } from './collect.js';
import type { ResolvedSweep } from './config.js';
import { metricKey, type PlannedCell, type PlannedModel, type Versions } from './plan.js';
import type { CellRecord, MetricRecord, SweepStore } from './store.js';

/** Peak RSS since the last reset (Linux: VmHWM, reset through /proc/self/clear_refs); null elsewhere. */
export const peakMemory = {
  reset(): void {
    try {
      writeFileSync('/proc/self/clear_refs', '5');
    } catch {
      // not Linux, or not allowed: the peak then covers the whole process so far
    }
  },
  read(): number | null {
    try {
      const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
      return m ? Number(m[1]) * 1024 : null;
    } catch {
      return null;
    }
  },
};

export interface CellOutcome {
  record: CellRecord;
  /** True when anything (attributions or a metric) was computed rather than read from the cache. */
  computed: boolean;
  seconds: number;
}

/**
 * One cell: its attributions (from the cache, or computed and cached), then every metric
 * configuration not yet cached. A method that throws makes the cell `error`; NaN/Inf in its
 * attributions makes it `invalid` — both with the reason, and neither gets metrics.
 */
export async function runCell(
  cell: PlannedCell,
  pm: PlannedModel,
  sweep: ResolvedSweep,
  store: SweepStore,
  versions: Versions,
  memory?: number,
): Promise<CellOutcome> {
  const started = performance.now();
  let record = store.cell(cell.key);
  let attributions = record?.status === 'ok' ? store.attributions(cell.key) : null;
  let computed = false;
  let rssAtStart = process.memoryUsage().rss;
  if (!record || (record.status === 'ok' && !attributions)) {
    computed = true;
    // One untimed sample first: the compiled graph and its session are built once per
    // configuration, and whichever cell happened to come first would otherwise carry that cost
    // for the ones sharing it (gradient abs=false/true, every IG step count).
    await explain({ ...explainArgs(cell, pm, sweep, memory), inputs: firstRows(pm.inputs, 1), targets: pm.targets.subarray(0, 1) }).catch(() => undefined);
    peakMemory.reset();
    rssAtStart = process.memoryUsage().rss;
    const t0 = performance.now();
    let status: CellRecord['status'] = 'ok';
    let reason: string | undefined;
    let biasRelevance: CellRecord['biasRelevance'];
    try {
      const result = await explain(explainArgs(cell, pm, sweep, memory));
      attributions = result.attributions;
      biasRelevance = result.biasRelevance;
      const bad = nonFinite(attributions);
      if (bad) {
        status = 'invalid';
        reason = bad;
      }
    } catch (e) {
      status = 'error';
      reason = oneLine(e);
    }
    record = {
      key: cell.key,
      status,
      ...(reason ? { reason } : {}),
      explainMs: performance.now() - t0,
      samples: pm.inputs.shape[0],
      peakRssBytes: null,
      startRssBytes: rssAtStart,
      ...(biasRelevance ? { biasRelevance } : {}),
    };
    store.writeCell(record, status === 'ok' ? attributions : null);
  }
  if (record.status === 'ok' && attributions) {
    for (const config of sweep.metrics) {
      const key = metricKey(cell.key, config, sweep.seed, pm.pair ? pm.pair.model.sha256 : null, versions);
      if (store.metric(key)) continue;
      if (!computed) {
        peakMemory.reset();
        rssAtStart = process.memoryUsage().rss;
        record = { ...record, startRssBytes: Math.min(rssAtStart, record.startRssBytes ?? rssAtStart) };
      }
      computed = true;
      store.writeMetric(await runMetric(key, config, cell, pm, sweep, attributions, record, memory));
    }
  }
  if (computed) {
    const peak = peakMemory.read();
    record = { ...record, peakRssBytes: peak === null ? record.peakRssBytes : Math.max(peak, record.peakRssBytes ?? 0) };
    store.writeCell(record, null);
  }
  return { record, computed, seconds: (performance.now() - started) / 1000 };
}

function explainArgs(cell: PlannedCell, pm: PlannedModel, sweep: ResolvedSweep, memory: number | undefined): ExplainArgs {
  return {
    memory,
    model: pm.model,
    inputs: pm.inputs,
    targets: pm.targets,
    method: cell.method.method,
    params: cell.method.params,
    data: pm.data,
    batchSize: sweep.batchSize,
  };
}

async function runMetric(
  key: string,
  config: MetricConfig,
  cell: PlannedCell,
  pm: PlannedModel,
  sweep: ResolvedSweep,
  attributions: Tensor,
  record: CellRecord,
  memory: number | undefined,
): Promise<MetricRecord> {
  const t0 = performance.now();
  const base = { key, config: config.label };
  if (config.metric === 'implementation-invariance' && !pm.pair) {
    return { ...base, status: 'skipped', reason: 'the model has no equivalent twin (give one with "pair")', values: {}, ms: 0 };
  }
  let result: MetricResult;
  try {
    result = await evaluate({
      model: pm.model,
      inputs: pm.inputs,
      targets: pm.targets,
      metric: config.metric,
      params: config.params,
      attributions,
      method: { id: cell.method.method, params: cell.method.params },
      data: { ...pm.data, labels: pm.labels },
      seed: sweep.seed,
      batchSize: sweep.batchSize,
      memory,
      biasRelevance: record.biasRelevance,
      pairs: pm.pair ? [{ id: `${pm.spec.name}~${pm.pair.id}`, a: pm.model, b: pm.pair.model }] : undefined,
    });
  } catch (e) {
    // A metric that does not apply (no ground truth, no labels, …) refuses with a usage or input error.
    const status = isBlameboardError(e) ? 'skipped' : 'error';
    return { ...base, status, reason: oneLine(e), values: {}, ms: performance.now() - t0 };
  }
  const values: MetricRecord['values'] = {};
  for (const [name, v] of Object.entries(result.values)) values[name] = { direction: v.direction, perSample: v.perSample };
  const curves: MetricRecord['curves'] = {};
  if (result.curves?.morf?.some((c) => c)) curves.morf = meanCurve(result.curves.morf);
  if (result.curves?.lerf?.some((c) => c)) curves.lerf = meanCurve(result.curves.lerf);
  return {
    ...base,
    status: 'ok',
    values,
    ...(curves.morf || curves.lerf ? { curves } : {}),
    ...(result.invalid?.length ? { invalidSamples: result.invalid.length } : {}),
    ms: performance.now() - t0,
  };
}

function meanCurve(curves: (number[] | null)[]): number[] {
  const valid = curves.filter((c): c is number[] => c !== null);
  const out = new Array<number>(valid[0].length).fill(0);
  for (const c of valid) for (let k = 0; k < out.length; k++) out[k] += c[k] / valid.length;
  return out;
}

/** A reason when attributions hold NaN/Inf: how many values, in how many samples, the first sample. */
export function nonFinite(t: Tensor): string | null {
  const bad = findNonFinite(t);
  if (!bad) return null;
  return `attributions hold ${nonFiniteCounts(bad)} in ${bad.samples.length} sample${bad.samples.length === 1 ? '' : 's'} (first: sample ${bad.samples[0]})`;
}

function oneLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0].slice(0, 500);
}
