import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  BlameboardError,
  foldBatchNorm,
  readOnnx,
  sizeOf,
  UsageError,
  writeOnnx,
  type IrGraph,
  type Tensor,
} from '@blameboard/core';
import { loadDataset, type Dataset } from '@blameboard/datasets';
import { convertLayersModel, fileSaveHandler, initTrainingBackend } from '@blameboard/tfjs';
import { architectures, getArchitecture, type Architecture } from './architectures.js';
import { describeGraph, parameterCount, sha256 } from './card.js';
import { accuracy, maxAbsDifference, r2, runOnnx } from './check.js';
import { predict, trainModel } from './train.js';
import { rescaledTwin, splitChannelTwin } from './twins.js';
import type { ModelCard } from './types.js';
import { cardPath, getZooEntry, modelPath, ZOO_DIR, zooIds } from './zoo.js';

/** Exported ONNX and tfjs must agree this closely; so must the two models of an equivalent pair. */
export const AGREEMENT_TOLERANCE = 1e-4;
/** Samples the agreement checks run on (the first test images / samples). */
export const CHECK_SAMPLES = 1000;

export interface TrainZooOptions {
  onProgress?: (line: string) => void;
  /** Where the .onnx and card files go (default: the package's zoo/). */
  dir?: string;
  /** Quick runs (tests): fewer epochs / training samples; the accuracy floor is then not enforced. */
  epochs?: number;
  trainCount?: number;
  /** Where equivalent-a/b.onnx are copied from (default: the repository's shared/reference). */
  referenceDir?: string;
}

class TrainingError extends BlameboardError {
  constructor(message: string) {
    super('TRAINING', message);
    this.name = 'TrainingError';
  }
}

interface Twin {
  base: string;
  transform: string;
  make(graph: IrGraph): IrGraph;
}

const TWINS: Record<string, Twin> = {
  'mnist-mlp-rescaled': {
    base: 'mnist-mlp',
    transform: "positive rescaling: fc1's weight and bias × 3, fc2's weight ÷ 3",
    make: (g) => rescaledTwin(g, 3),
  },
  'mnist-cnn-split': {
    base: 'mnist-cnn',
    transform: "channel split: conv1's channel 0 becomes two channels with half its weight and bias; conv2 reads both",
    make: (g) => splitChannelTwin(g, 0),
  },
  'mnist-bn-cnn-folded': {
    base: 'mnist-bn-cnn',
    transform: 'every BatchNormalization folded into the Conv before it (core foldBatchNorm)',
    make: (g) => foldBatchNorm(g),
  },
};

const REFERENCE_COPIES = ['equivalent-a', 'equivalent-b'];

function atomicWrite(file: string, data: string | Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

function finishCard(graph: IrGraph, bytes: Uint8Array, partial: Omit<ModelCard, 'sha256' | 'architecture' | 'parameterCount' | 'opset' | 'inputShape' | 'outputSize'>): ModelCard {
  const out = graph.outputs[0].shape;
  return {
    ...partial,
    architecture: describeGraph(graph),
    parameterCount: parameterCount(graph),
    sha256: sha256(bytes),
    opset: graph.opsetVersion,
    inputShape: graph.inputs[0].shape.slice(1).map(Number),
    outputSize: Number(out[out.length - 1]),
  };
}

function save(dir: string, id: string, bytes: Uint8Array, card: ModelCard): ModelCard {
  atomicWrite(modelPath(id, dir), bytes);
  atomicWrite(cardPath(id, dir), JSON.stringify(card, null, 2) + '\n');
  return card;
}

async function datasetFor(id: string, split: 'train' | 'test', count?: number): Promise<Dataset> {
  const entry = getZooEntry(id);
  return loadDataset(entry.dataset, { split, count, layout: entry.dataset === 'mnist' ? entry.layout : undefined });
}

function firstRows(t: Tensor, n: number): Tensor {
  const m = Math.min(n, t.shape[0]);
  const row = sizeOf(t.shape.slice(1));
  return { dtype: t.dtype, shape: [m, ...t.shape.slice(1)], data: t.data.subarray(0, m * row) as Tensor['data'] };
}

async function quality(arch: Architecture | { task: 'classification' | 'regression' }, onnx: Uint8Array, test: Dataset): Promise<{ testAccuracy?: number; r2?: number }> {
  const out = await runOnnx(onnx, test.inputs);
  return arch.task === 'classification' ? { testAccuracy: accuracy(out, test.labels) } : { r2: r2(out, test.labels) };
}

async function trainOne(arch: Architecture, dir: string, opts: TrainZooOptions): Promise<ModelCard> {
  const log = opts.onProgress ?? (() => {});
  const backend = await initTrainingBackend();
  const trainCount = opts.trainCount ?? arch.trainCount;
  const train = await datasetFor(arch.id, 'train', trainCount);
  const test = await datasetFor(arch.id, 'test');
  log(`${arch.id}: training on ${train.labels.length} samples with tfjs ${backend.backend} (seed ${arch.seed})`);
  const epochs = opts.epochs ?? arch.epochs;
  const result = await trainModel(
    arch,
    { x: train.inputs.data as Float32Array, y: train.labels, n: train.labels.length },
    { epochs, onProgress: log },
  );
  await result.model.save(fileSaveHandler(tf, join(dir, 'tfjs', arch.id)));

  const graph = convertLayersModel(result.model, { name: arch.id.replace(/-/g, '_'), outputName: arch.task === 'classification' ? 'logits' : 'output' });
  const bytes = writeOnnx(graph);
  const probe = firstRows(test.inputs, CHECK_SAMPLES);
  const onnxOut = await runOnnx(bytes, probe);
  const tfOut = predict(result.model, probe.data as Float32Array, probe.shape[0], arch.trainShape);
  result.model.dispose();
  const exportDiff = maxAbsDifference(onnxOut.data as Float32Array, tfOut);
  if (!(exportDiff <= AGREEMENT_TOLERANCE)) {
    throw new TrainingError(`${arch.id}: exported ONNX differs from tfjs by ${exportDiff} (> ${AGREEMENT_TOLERANCE})`);
  }
  const q = await quality(arch, bytes, test);
  const score = q.testAccuracy ?? q.r2!;
  log(`${arch.id}: ${q.testAccuracy !== undefined ? 'test accuracy' : 'R²'} ${score.toFixed(4)} on onnxruntime (floor ${arch.floor}), |onnx − tfjs| ≤ ${exportDiff.toExponential(2)}, ${result.seconds.toFixed(1)} s`);
  const quick = opts.epochs !== undefined || opts.trainCount !== undefined;
  if (!quick && !(score >= arch.floor)) {
    throw new TrainingError(`${arch.id}: ${score.toFixed(4)} is below the floor ${arch.floor}; not shipped`);
  }
  const card = finishCard(graph, bytes, {
    id: arch.id,
    description: arch.description,
    dataset: arch.dataset,
    ...q,
    floor: arch.floor,
    seed: arch.seed,
    epochs,
    trainingSeconds: Math.round(result.seconds * 10) / 10,
    backend: backend.backend,
    tfjsVersion: backend.tfjsVersion,
    exportMaxAbsDifference: exportDiff,
    checkedOn: probe.shape[0],
  });
  return save(dir, arch.id, bytes, card);
}

function baseBytes(id: string, dir: string): Uint8Array {
  for (const file of [modelPath(id, dir), modelPath(id)]) if (existsSync(file)) return new Uint8Array(readFileSync(file));
  throw new TrainingError(`cannot build a twin of '${id}': ${modelPath(id, dir)} does not exist (train it first)`);
}

/** Largest |a − b| of two ONNX models' outputs on the same inputs. */
export async function pairDifference(a: Uint8Array, b: Uint8Array, inputs: Tensor): Promise<number> {
  const [ya, yb] = await Promise.all([runOnnx(a, inputs), runOnnx(b, inputs)]);
  return maxAbsDifference(ya.data as Float32Array, yb.data as Float32Array);
}

async function buildTwin(id: string, twin: Twin, dir: string, log: (l: string) => void): Promise<ModelCard> {
  const base = baseBytes(twin.base, dir);
  const graph = twin.make(readOnnx(base));
  graph.name = id.replace(/-/g, '_');
  const bytes = writeOnnx(graph);
  const test = await datasetFor(id, 'test');
  const diff = await pairDifference(base, bytes, firstRows(test.inputs, CHECK_SAMPLES));
  if (!(diff <= AGREEMENT_TOLERANCE)) throw new TrainingError(`${id}: differs from ${twin.base} by ${diff} (> ${AGREEMENT_TOLERANCE})`);
  const q = await quality({ task: 'classification' }, bytes, test);
  log(`${id}: |${id} − ${twin.base}| ≤ ${diff.toExponential(2)} on ${CHECK_SAMPLES} test images, test accuracy ${q.testAccuracy?.toFixed(4)}`);
  const baseCard = JSON.parse(readFileSync(existsSync(cardPath(twin.base, dir)) ? cardPath(twin.base, dir) : cardPath(twin.base), 'utf8')) as ModelCard;
  const card = finishCard(graph, bytes, {
    id,
    description: `${baseCard.description} — functionally equivalent twin (${twin.transform})`,
    dataset: baseCard.dataset,
    ...q,
    floor: baseCard.floor,
    seed: baseCard.seed,
    derivedFrom: { id: twin.base, transform: twin.transform },
    maxAbsDifference: diff,
    checkedOn: CHECK_SAMPLES,
  });
  return save(dir, id, bytes, card);
}

function defaultReferenceDir(): string {
  // packages/models/{src,dist} → repository root → ../shared/reference (the workspace layout)
  return join(ZOO_DIR, '..', '..', '..', '..', 'shared', 'reference');
}

async function copyReferencePair(dir: string, opts: TrainZooOptions): Promise<ModelCard[]> {
  const log = opts.onProgress ?? (() => {});
  const refDir = opts.referenceDir ?? defaultReferenceDir();
  const bytes: Record<string, Uint8Array> = {};
  for (const id of REFERENCE_COPIES) {
    const src = join(refDir, `${id}.onnx`);
    const dst = modelPath(id, dir);
    if (existsSync(src)) {
      // Written, not copied: the reference files are read-only and their mode would come along.
      atomicWrite(dst, readFileSync(src));
    } else if (!existsSync(dst)) {
      throw new TrainingError(`cannot find ${src} to copy into the zoo`);
    }
    bytes[id] = new Uint8Array(readFileSync(dst));
  }
  const data = await loadDataset('equivalence-2d', { split: 'test', count: CHECK_SAMPLES });
  const [a, b] = REFERENCE_COPIES.map((id) => bytes[id]);
  const diff = await pairDifference(a, b, data.inputs);
  if (!(diff <= AGREEMENT_TOLERANCE)) throw new TrainingError(`equivalent-a and equivalent-b differ by ${diff}`);
  log(`equivalent-a/b: copied from ${refDir}, |a − b| ≤ ${diff.toExponential(2)} on ${CHECK_SAMPLES} equivalence-2d samples`);
  const formulas: Record<string, string> = {
    'equivalent-a': 'relu(relu(x1) − 1 − relu(x2))',
    'equivalent-b': 'relu(relu(x1 − 1) − relu(x2))',
  };
  return REFERENCE_COPIES.map((id) => {
    const graph = readOnnx(bytes[id]);
    const card = finishCard(graph, bytes[id], {
      id,
      description: `${formulas[id]}: the reference pair (shared/reference) on which DeepLIFT breaks implementation invariance`,
      dataset: 'equivalence-2d',
      maxAbsDifference: diff,
      checkedOn: CHECK_SAMPLES,
    });
    atomicWrite(cardPath(id, dir), JSON.stringify(card, null, 2) + '\n');
    return card;
  });
}

/**
 * Trains, exports and checks zoo models (all when `ids` is empty): trained models first, then
 * the twins (from the trained ONNX files), then the reference pair. Deterministic seeds; every
 * model is checked (ONNX vs tfjs, twin vs original, accuracy floor) before it is written.
 */
export async function trainZoo(ids: string[], opts: TrainZooOptions = {}): Promise<ModelCard[]> {
  const wanted = ids.length ? ids : zooIds;
  for (const id of wanted) getZooEntry(id);
  const dir = opts.dir ?? ZOO_DIR;
  const log = opts.onProgress ?? (() => {});
  const cards: ModelCard[] = [];
  for (const arch of architectures) if (wanted.includes(arch.id)) cards.push(await trainOne(arch, dir, opts));
  for (const [id, twin] of Object.entries(TWINS)) if (wanted.includes(id)) cards.push(await buildTwin(id, twin, dir, log));
  if (REFERENCE_COPIES.some((id) => wanted.includes(id))) {
    cards.push(...(await copyReferencePair(dir, opts)).filter((c) => wanted.includes(c.id)));
  }
  const unknown = wanted.filter((id) => !getArchitecture(id) && !TWINS[id] && !REFERENCE_COPIES.includes(id));
  if (unknown.length) throw new UsageError(`cannot build zoo models: ${unknown.join(', ')}`);
  return cards;
}
