import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, ModelLoadError, tfjsModelJson, UsageError, type LoadedModel } from '@blameboard/core';
import type { EquivalentPair, ModelCard, ZooEntry } from './types.js';

/** The shipped models: `<id>.onnx` + `<id>.card.json` (from src/ or dist/, one level up). */
export const ZOO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'zoo');

interface ZooSpec {
  id: string;
  dataset: string;
  /** How the model wants MNIST: 'flat' [N, 784] or 'nchw' [N, 1, 28, 28]. */
  layout: 'nchw' | 'flat';
}

const SPECS: ZooSpec[] = [
  { id: 'mnist-mlp', dataset: 'mnist', layout: 'flat' },
  { id: 'mnist-cnn', dataset: 'mnist', layout: 'nchw' },
  { id: 'mnist-bn-cnn', dataset: 'mnist', layout: 'nchw' },
  { id: 'synthetic-mlp', dataset: 'synthetic-linear', layout: 'flat' },
  { id: 'mnist-mlp-rescaled', dataset: 'mnist', layout: 'flat' },
  { id: 'mnist-cnn-split', dataset: 'mnist', layout: 'nchw' },
  { id: 'mnist-bn-cnn-folded', dataset: 'mnist', layout: 'nchw' },
  { id: 'equivalent-a', dataset: 'equivalence-2d', layout: 'flat' },
  { id: 'equivalent-b', dataset: 'equivalence-2d', layout: 'flat' },
];

export function cardPath(id: string, dir = ZOO_DIR): string {
  return join(dir, `${id}.card.json`);
}

export function modelPath(id: string, dir = ZOO_DIR): string {
  return join(dir, `${id}.onnx`);
}

export function readCard(id: string, dir = ZOO_DIR): ModelCard {
  const file = cardPath(id, dir);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ModelCard;
  } catch (e) {
    throw new ModelLoadError(`zoo model '${id}' has no readable card at ${file} (run 'blameboard train ${id}'): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function entry(spec: ZooSpec): ZooEntry & { layout: 'nchw' | 'flat' } {
  let card: ModelCard | undefined;
  return {
    ...spec,
    file: modelPath(spec.id),
    get card() {
      card ??= readCard(spec.id);
      return card;
    },
  };
}

export const zoo: (ZooEntry & { layout: 'nchw' | 'flat' })[] = SPECS.map(entry);

export const zooIds: string[] = SPECS.map((s) => s.id);

/** Pairs of zoo models that compute the same function (implementation invariance, SPEC §5). */
export const equivalentPairs: EquivalentPair[] = [
  { id: 'equivalent-ab', a: 'equivalent-a', b: 'equivalent-b', dataset: 'equivalence-2d' },
  { id: 'mnist-bn-fold', a: 'mnist-bn-cnn', b: 'mnist-bn-cnn-folded', dataset: 'mnist' },
  { id: 'mnist-mlp-rescale', a: 'mnist-mlp', b: 'mnist-mlp-rescaled', dataset: 'mnist' },
  { id: 'mnist-cnn-split', a: 'mnist-cnn', b: 'mnist-cnn-split', dataset: 'mnist' },
];

export function getZooEntry(id: string): ZooEntry & { layout: 'nchw' | 'flat' } {
  const found = zoo.find((e) => e.id === id);
  if (!found) throw new UsageError(`unknown zoo model '${id}' (known: ${zooIds.join(', ')})`);
  return found;
}

/**
 * What `--model M` names: a zoo id, a path to an .onnx file, or a tfjs model.json (or its
 * folder). Anything else is a UsageError that lists the zoo ids. tfjs is imported only for a tfjs
 * model: ONNX and zoo models never load it.
 */
export async function resolveModel(spec: string): Promise<LoadedModel> {
  const e = zoo.find((z) => z.id === spec);
  if (e) {
    if (!existsSync(e.file)) throw new ModelLoadError(`zoo model '${spec}' is not trained: ${e.file} is missing (run 'blameboard train ${spec}')`);
    return loadModel({ bytes: new Uint8Array(readFileSync(e.file)), id: spec, baseDir: dirname(e.file) });
  }
  if (existsSync(spec) || /\.(onnx|json)$/i.test(spec) || /[\\/]/.test(spec)) {
    return tfjsModelJson(spec) ? (await tfjsBridge(spec)).loadTfjsModel(spec) : loadModel(spec);
  }
  throw new UsageError(`unknown model '${spec}': not a zoo id (known: ${zooIds.join(', ')}) nor a path to an .onnx file or a tfjs model.json`);
}

async function tfjsBridge(spec: string): Promise<typeof import('@blameboard/tfjs')> {
  try {
    return await import('@blameboard/tfjs');
  } catch (e) {
    throw new ModelLoadError(`cannot load @blameboard/tfjs to read the tfjs model '${spec}': ${String(e instanceof Error ? e.message : e).split('\n')[0]}`, { cause: e });
  }
}
