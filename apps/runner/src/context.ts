import { float32, sizeOf, InputError, loadNpy, validateInputs, validateTargets, forward, type LoadedModel, type Tensor } from '@blameboard/core';
import { loadDataset } from '@blameboard/datasets';
import { getZooEntry, resolveModel } from '@blameboard/models';
import type { DataContext } from '@blameboard/methods';

/** Reads an inputs .npy and checks it against the model before any work starts. */
export function readInputs(model: LoadedModel, path: string): Tensor {
  const raw = loadNpy(path);
  if (raw.dtype !== 'float32' && raw.dtype !== 'float64') {
    throw new InputError(`inputs ${path} have dtype ${raw.dtype}; models take float32 (float64 is converted)`);
  }
  const inputs = raw.dtype === 'float32' ? raw : float32(raw.shape, raw.data as Float64Array);
  validateInputs(model, inputs);
  return inputs;
}

/**
 * Targets from a file, an integer, or 'predicted' (the default): the class each explanation
 * explains. Out-of-range targets are refused before anything runs.
 */
export async function readTargets(model: LoadedModel, inputs: Tensor, spec: string | undefined): Promise<Int32Array> {
  const n = inputs.shape[0];
  let targets: Int32Array;
  if (spec === undefined || spec === 'predicted') {
    const logits = await forward(model, inputs, { output: 'logit' });
    targets = argmaxRows(logits);
  } else if (/^-?\d+$/.test(spec)) {
    targets = new Int32Array(n).fill(Number(spec));
  } else {
    const t = loadNpy(spec);
    if (!['int32', 'int64', 'uint8', 'int8', 'int16'].includes(t.dtype)) {
      throw new InputError(`targets ${spec} have dtype ${t.dtype}; expected an integer .npy (int32 or int64)`);
    }
    if (t.data.length !== n) throw new InputError(`targets ${spec} hold ${t.data.length} values for ${n} inputs`);
    targets = Int32Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
  }
  validateTargets(model, targets, n);
  return targets;
}

export function argmaxRows(t: Tensor): Int32Array {
  const n = t.shape[0];
  const c = sizeOf(t.shape.slice(1));
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if ((t.data[i * c + j] as number) > (t.data[i * c + best] as number)) best = j;
    out[i] = best;
  }
  return out;
}

export interface ResolvedModel {
  model: LoadedModel;
  /** The zoo dataset behind the model, when it has one. */
  datasetId?: string;
}

export async function openModel(spec: string): Promise<ResolvedModel> {
  const model = await resolveModel(spec);
  let datasetId: string | undefined;
  try {
    datasetId = getZooEntry(spec).dataset;
  } catch {
    datasetId = undefined;
  }
  return { model, datasetId };
}

/**
 * What methods may know about the data: for a zoo model, its training set (mean baseline,
 * input range, blame's prior); for any other model, the given inputs themselves.
 */
export interface RunnerDataContext extends DataContext {
  /** The dataset's id (metrics such as ground-truth need it). */
  name?: string;
  /** Ground-truth coefficients (synthetic-linear). */
  groundTruth?: Float32Array;
  /** Per-class mean input [C, …] (counterfactual-blame's fill). */
  classMeans?: Tensor;
}

export async function dataContext(resolved: ResolvedModel, inputs: Tensor): Promise<RunnerDataContext> {
  if (resolved.datasetId) {
    const layout = resolved.model.inputShape.length > 1 ? 'nchw' : 'flat';
    const ds = await loadDataset(resolved.datasetId, { split: 'train', count: 1000, seed: 0, layout });
    const context: RunnerDataContext = { name: ds.id, mean: ds.mean, range: ds.range, reference: ds.inputs, groundTruth: ds.groundTruth };
    if (ds.labels instanceof Int32Array) context.classMeans = classMeans(ds.inputs, ds.labels, resolved.model.outputSize);
    return context;
  }
  const row = sizeOf(inputs.shape.slice(1));
  const mean = new Float32Array(row);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < inputs.data.length; i++) {
    const v = inputs.data[i] as number;
    mean[i % row] += v / inputs.shape[0];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { mean: float32(inputs.shape.slice(1), mean), range: [lo, hi], reference: inputs };
}

function classMeans(inputs: Tensor, labels: Int32Array, classes: number): Tensor {
  const row = sizeOf(inputs.shape.slice(1));
  const sums = new Float32Array(classes * row);
  const counts = new Float64Array(classes);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    counts[c]++;
    for (let j = 0; j < row; j++) sums[c * row + j] += inputs.data[i * row + j] as number;
  }
  for (let c = 0; c < classes; c++) for (let j = 0; j < row; j++) sums[c * row + j] /= Math.max(1, counts[c]);
  return float32([classes, ...inputs.shape.slice(1)], sums);
}

/**
 * `blame`'s `reference` names the dataset whose mean softmax is the prior: load it here (1,000
 * seeded training samples, like a zoo model's own context) so the parameter means what it says.
 */
export async function withReference(model: LoadedModel, data: RunnerDataContext, params: Record<string, unknown>): Promise<RunnerDataContext> {
  const id = params.reference;
  if (typeof id !== 'string') return data;
  const layout = model.inputShape.length > 1 ? 'nchw' : 'flat';
  const ds = await loadDataset(id, { split: 'train', count: 1000, seed: 0, layout });
  const shape = ds.inputs.shape.slice(1);
  if (shape.join(',') !== model.inputShape.join(',')) {
    throw new InputError(`reference dataset '${id}' has samples [${shape.join(', ')}] but the model takes [${model.inputShape.join(', ')}]`);
  }
  return { ...data, reference: ds.inputs };
}
