import { InputError, sizeOf, UsageError, type LoadedModel, type Tensor } from '@blameboard/core';
import { loadDataset, type LoadedInputs } from '@blameboard/datasets';
import { occlusionStride } from '@blameboard/methods';
import { predictClasses } from '@blameboard/metrics';
import { equivalentPairs, getZooEntry, resolveModel } from '@blameboard/models';
import { dataContext, readClassFile, readInputs, type RunnerDataContext } from '../context.js';
import { canonicalJson, sha256, type MethodConfig, type ModelSpec, type ResolvedSweep } from './config.js';

/** A model with its sample set, ready for cells. */
export interface PlannedModel {
  spec: ModelSpec;
  model: LoadedModel;
  dataset: string;
  inputs: Tensor;
  targets: Int32Array;
  /** Gold labels (classification datasets and given label files). */
  labels?: Int32Array;
  data: RunnerDataContext;
  sampleKey: string;
  pair?: { id: string; model: LoadedModel };
  /** Estimated multiply-adds of one forward pass of one sample (shard balancing). */
  forwardCost: number;
}

export interface PlannedCell {
  key: string;
  /** Index into the plan's models. */
  model: number;
  method: MethodConfig;
  /** Expected cost of the cell and its metrics, in forward-pass multiply-adds (shard balancing only). */
  cost: number;
  /** Position in config order. */
  index: number;
}

/** Everything a cache key must change with, beyond the cell's own inputs. */
export interface Versions {
  [name: string]: string;
}

/** Loads every model and its samples; a missing file or a mismatched dataset is one line naming the config entry. */
export async function planModels(sweep: ResolvedSweep): Promise<PlannedModel[]> {
  const planned: PlannedModel[] = [];
  for (const spec of sweep.models) {
    try {
      planned.push(await planModel(spec, sweep));
    } catch (e) {
      if (e instanceof Error && 'exitCode' in e) {
        (e as Error).message = `sweep config ${spec.pointer} (${spec.name}): ${(e as Error).message}`;
      }
      throw e;
    }
  }
  return planned;
}

async function planModel(spec: ModelSpec, sweep: ResolvedSweep): Promise<PlannedModel> {
  const model = await resolveModel(spec.zoo ?? spec.path!);
  const zooDataset = spec.zoo ? getZooEntry(spec.zoo).dataset : undefined;
  const datasetId = spec.dataset ?? zooDataset;
  let inputs: Tensor;
  let labels: Int32Array | undefined;
  let dataset: string;
  let loaded: LoadedInputs | undefined;
  if (spec.inputs) {
    loaded = readInputs(model, spec.inputs, spec.preprocess);
    inputs = takeRows(loaded.inputs, sweep.samples);
    if (spec.labels) labels = readClassFile(spec.labels, inputs.shape[0], 'labels').slice(0, inputs.shape[0]);
    dataset = datasetId ?? 'inputs';
  } else {
    if (!datasetId) throw new UsageError('give a "dataset" or "inputs"');
    const layout = model.inputShape.length > 1 ? 'nchw' : 'flat';
    const ds = await loadDataset(datasetId, { split: 'test', count: sweep.samples, seed: sweep.seed, layout });
    if (ds.inputs.shape.slice(1).join(',') !== model.inputShape.join(',')) {
      throw new InputError(`dataset '${datasetId}' has samples [${ds.inputs.shape.slice(1).join(', ')}] but the model takes [${model.inputShape.join(', ')}]`);
    }
    inputs = ds.inputs;
    if (ds.labels instanceof Int32Array) labels = ds.labels;
    dataset = datasetId;
  }
  const targets = model.outputSize > 1 ? await predictClasses(model, inputs) : new Int32Array(inputs.shape[0]);
  const data = await dataContext({ model, datasetId: spec.inputs ? datasetId : dataset }, inputs, loaded);
  const sampleKey = sha256(
    canonicalJson({ dataset, seed: sweep.seed, inputs: sha256(bytes(inputs.data)), targets: sha256(bytes(targets)), labels: labels ? sha256(bytes(labels)) : null }),
  );
  let pair: PlannedModel['pair'];
  if (spec.pair) {
    pair = { id: spec.pair, model: await resolveModel(spec.pair) };
  } else if (spec.zoo) {
    const p = equivalentPairs.find((q) => q.a === spec.zoo || q.b === spec.zoo);
    if (p) {
      const twin = p.a === spec.zoo ? p.b : p.a;
      pair = { id: twin, model: await resolveModel(twin) };
    }
  }
  return { spec, model, dataset, inputs, targets, labels, data, sampleKey, pair, forwardCost: forwardCost(model) };
}

function takeRows(t: Tensor, n: number): Tensor {
  if (t.shape[0] <= n) return t;
  const per = sizeOf(t.shape.slice(1));
  return { ...t, shape: [n, ...t.shape.slice(1)], data: t.data.slice(0, n * per) as Tensor['data'] };
}

function bytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Multiply-adds of one sample's forward pass from the IR's inferred shapes (Conv, ConvTranspose,
 * Gemm, MatMul); the weight count when the IR is missing. Only shard balancing uses it.
 */
export function forwardCost(model: LoadedModel): number {
  const g = model.graph;
  if (!g) return Math.max(1, model.onnx.byteLength / 4);
  let macs = 0;
  for (const node of g.nodes) {
    if (!['Conv', 'ConvTranspose', 'Gemm', 'MatMul'].includes(node.opType)) continue;
    const out = g.values.get(node.outputs[0])?.shape.slice(1).filter((d): d is number => typeof d === 'number') ?? [];
    const w = g.initializers.get(node.inputs[1]);
    if (!w) continue;
    const outSize = sizeOf(out);
    const perOutput = node.opType === 'Conv' ? sizeOf(w.shape.slice(1)) : node.opType === 'ConvTranspose' ? sizeOf(w.shape.slice(2)) : w.shape[0];
    macs += outSize * perOutput;
  }
  return Math.max(1, macs);
}

/**
 * Forward-pass equivalents of one method run per sample (a rough, deterministic estimate). The
 * config's parameters are resolved (`resolveSweepConfig`), so every default is already filled.
 */
function methodFactor(m: MethodConfig, model: PlannedModel): number {
  const p = m.params;
  switch (m.method) {
    case 'integrated-gradients':
      return 3 * (p.steps as number);
    case 'smoothgrad':
      return 3 * (p.samples as number);
    case 'deeplift':
      return 6;
    case 'occlusion': {
      const shape = model.inputs.shape.slice(1);
      const area = shape.length >= 2 ? shape[shape.length - 1] * shape[shape.length - 2] : shape[0];
      return Math.max(1, area / occlusionStride(p) ** 2);
    }
    case 'uniform':
    case 'random':
    case 'edge':
      return 1;
    default:
      return 4;
  }
}

/** Forward-pass equivalents of the metrics on one cell, per sample (parameters resolved, as above). */
function metricsFactor(sweep: ResolvedSweep, method: number): number {
  let f = 0;
  for (const m of sweep.metrics) {
    switch (m.metric) {
      case 'selectivity':
        f += 2 * (m.params.steps as number);
        break;
      case 'continuity':
        f += ((m.params.steps as number) + 1) * method;
        break;
      case 'randomization':
        f += 4 * method;
        break;
      case 'implementation-invariance':
        f += 2 * method;
        break;
      default:
        f += 1;
    }
  }
  return f;
}

/** Cells in config order (models outer, methods inner) with their content keys and expected costs. */
export function planCells(sweep: ResolvedSweep, models: PlannedModel[], versions: Versions): PlannedCell[] {
  const cells: PlannedCell[] = [];
  models.forEach((pm, mi) => {
    for (const method of sweep.methods) {
      const key = cellKey(pm, method, versions);
      const factor = methodFactor(method, pm);
      cells.push({ key, model: mi, method, cost: pm.forwardCost * pm.inputs.shape[0] * (factor + metricsFactor(sweep, factor)), index: cells.length });
    }
  });
  return cells;
}

export function cellKey(pm: PlannedModel, method: MethodConfig, versions: Versions): string {
  return sha256(
    canonicalJson({
      v: 1,
      model: pm.model.sha256,
      samples: pm.sampleKey,
      method: method.method,
      params: method.params,
      versions: { core: versions.core, methods: versions.methods, onnxruntime: versions.onnxruntime },
    }),
  );
}

export function metricKey(cell: string, metric: { metric: string; params: Record<string, unknown> }, seed: number, pair: string | null, versions: Versions): string {
  return sha256(canonicalJson({ v: 1, cell, metric: metric.metric, params: metric.params, seed, pair, versions: { metrics: versions.metrics } }));
}

/**
 * The cells of shard k (1-based) of n: longest expected cost first, each to the least-loaded
 * shard (ties: the lowest shard). Deterministic, so every shard computes the same partition.
 */
export function shardCells(cells: PlannedCell[], k: number, n: number): PlannedCell[] {
  if (n === 1) return cells;
  const loads = new Float64Array(n);
  const owner = new Map<string, number>();
  const byCost = [...cells].sort((a, b) => b.cost - a.cost || a.index - b.index);
  for (const cell of byCost) {
    let best = 0;
    for (let s = 1; s < n; s++) if (loads[s] < loads[best]) best = s;
    loads[best] += cell.cost;
    owner.set(cell.key, best);
  }
  return cells.filter((c) => owner.get(c.key) === k - 1);
}
