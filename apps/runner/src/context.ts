import { basename } from 'node:path';
import { float32, sizeOf, InputError, loadNpy, parseJsonText, printable, validateInputs, validateTargets, type LoadedModel, type RowBudget, type Tensor } from '@blameboard/core';
import { classMeansOf, predictClasses } from '@blameboard/metrics';
import { getDatasetInfo, loadDataset, loadDatasetSync, loadInputs, parsePreprocess, type Dataset, type LoadedInputs, type PreprocessSpec } from '@blameboard/datasets';
import { getZooEntry, resolveModel } from '@blameboard/models';
import type { DataContext } from '@blameboard/methods';
import type { Io } from './io.js';

/** Validates `--preprocess` JSON (before the model loads); every mistake names the field. */
export function preprocessFlag(text: string | undefined): PreprocessSpec | undefined {
  if (text === undefined) return undefined;
  return parsePreprocess(parseJsonText(text, '--preprocess'));
}

/**
 * Reads `--inputs` — a .npy, an .npz (`data.npz:name` picks an array), a PNG/JPEG image or a
 * folder of them, preprocessed by `preprocess` — and checks it against the model before any work starts.
 */
export function readInputs(model: LoadedModel, path: string, preprocess?: PreprocessSpec): LoadedInputs {
  const loaded = loadInputs(path, { preprocess, inputShape: model.inputShape });
  validateInputs(model, loaded.inputs);
  return loaded;
}

/** Says which image became which row (sorted by file name), so results can be matched to files. */
export function reportImages(loaded: LoadedInputs, io: Io): void {
  const files = loaded.files;
  if (!files) return;
  const names = files.map((f) => printable(basename(f)));
  const list = names.length <= 4 ? names.join(', ') : `${names.slice(0, 2).join(', ')}, …, ${names[names.length - 1]}`;
  io.err(`inputs: ${files.length} image${files.length === 1 ? '' : 's'} as rows 0–${files.length - 1} in file-name order (${list}) → [${loaded.inputs.shape.join(', ')}]`);
}

/**
 * Targets from a file, an integer, or 'predicted' (the default): the class each explanation
 * explains. Out-of-range targets are refused before anything runs.
 */
export async function readTargets(model: LoadedModel, inputs: Tensor, spec: string | undefined, budget: RowBudget = {}): Promise<Int32Array> {
  const n = inputs.shape[0];
  let targets: Int32Array;
  if (spec === undefined || spec === 'predicted') {
    targets = await predictClasses(model, inputs, budget);
  } else if (/^-?\d+$/.test(spec)) {
    const t = Number(spec);
    if (!Number.isSafeInteger(t) || t < 0 || t > 2 ** 31 - 1) throw new InputError(`target ${spec} is out of range`);
    targets = new Int32Array(n).fill(t);
  } else {
    targets = readClassFile(spec, n, 'targets');
  }
  validateTargets(model, targets, n);
  return targets;
}

/** One class index per input from an integer .npy (targets or gold labels). */
export function readClassFile(path: string, n: number, what: string): Int32Array {
  const t = loadNpy(path);
  if (!['int32', 'int64', 'uint8', 'int8', 'int16'].includes(t.dtype)) {
    throw new InputError(`${what} ${path} have dtype ${t.dtype}; expected an integer .npy (int32 or int64)`);
  }
  if (t.data.length !== n) throw new InputError(`${what} ${path} hold ${t.data.length} values for ${n} inputs`);
  return Int32Array.from(t.data as ArrayLike<number | bigint>, (v) => {
    const x = Number(v);
    if (!Number.isSafeInteger(x) || x < 0 || x > 2 ** 31 - 1) throw new InputError(`${what} ${path} hold an out-of-range class ${String(v)}`);
    return x;
  });
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

export async function dataContext(resolved: ResolvedModel, inputs: Tensor, loaded?: LoadedInputs): Promise<RunnerDataContext> {
  const context = await datasetContext(resolved, inputs);
  if (loaded?.pixelRange) {
    // Images: every value is known to lie in the preprocessed range of [0, 1] pixels.
    const { low, high } = loaded.pixelRange;
    context.inputBounds = { low: perElement(low, resolved.model.inputShape), high: perElement(high, resolved.model.inputShape) };
    if (!resolved.datasetId) context.range = [Math.min(...low), Math.max(...high)];
  }
  return context;
}

/** Per-channel bounds as z-box takes them: one number when all agree, per channel for [C, H, W], per element for flat rows. */
function perElement(values: number[], inputShape: number[]): number | number[] {
  if (values.every((v) => v === values[0])) return values[0];
  if (inputShape.length > 1) return values;
  const per = sizeOf(inputShape) / values.length;
  return Array.from({ length: sizeOf(inputShape) }, (_, i) => values[Math.floor(i / per)]);
}

async function datasetContext(resolved: ResolvedModel, inputs: Tensor): Promise<RunnerDataContext> {
  if (resolved.datasetId) {
    const id = resolved.datasetId;
    const info = getDatasetInfo(id);
    const layout = resolved.model.inputShape.length > 1 ? 'nchw' : 'flat';
    // The training samples are decoded when a method first reads them (a baseline, blame's prior,
    // a metric's class means), not for every explanation: most methods never do, and decoding
    // MNIST took 130–180 ms of a 0.7 s process.
    let ds: Dataset | undefined;
    const load = () => (ds ??= loadDatasetSync(id, { split: 'train', count: 1000, seed: 0, layout }));
    const context: RunnerDataContext = { name: id, range: info.range };
    // A flat model of an image dataset (mnist-mlp) still gets image patches, paths and blurs.
    if (info.inputShape.length > 1) context.imageShape = info.inputShape;
    settableLazy(context, 'mean', () => load().mean);
    settableLazy(context, 'reference', () => load().inputs);
    settableLazy(context, 'groundTruth', () => load().groundTruth);
    settableLazy(context, 'classMeans', () => {
      const d = load();
      if (!(d.labels instanceof Int32Array)) return undefined;
      return classMeansOf(d.inputs, d.labels, resolved.model.outputSize);
    });
    return context;
  }
  // Computed when a method or metric first reads them: a plain gradient reads neither, and the
  // per-element mean took 120 ms of a 2 s process for 32,768 MNIST images.
  const context: RunnerDataContext = { reference: inputs };
  settableLazy(context, 'mean', () => float32(inputs.shape.slice(1), meanRow(inputs)));
  settableLazy(context, 'range', () => valueRange(inputs.data as Float32Array));
  return context;
}

/** A property computed on first read and kept; assigning it replaces it with a plain value. */
function settableLazy<T extends object, K extends keyof T>(target: T, key: K, compute: () => T[K]): void {
  const define = (value: T[K]) => Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  Object.defineProperty(target, key, {
    get: () => {
      const value = compute();
      define(value);
      return value;
    },
    set: define,
    enumerable: true,
    configurable: true,
  });
}

/** The mean input row, summed sample by sample in file order (the order the results are pinned to). */
function meanRow(inputs: Tensor): Float32Array {
  const n = inputs.shape[0];
  const row = sizeOf(inputs.shape.slice(1));
  const data = inputs.data as Float32Array;
  const mean = new Float32Array(row);
  for (let s = 0; s < n; s++) {
    const base = s * row;
    for (let j = 0; j < row; j++) mean[j] += data[base + j] / n;
  }
  return mean;
}

function valueRange(data: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
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
