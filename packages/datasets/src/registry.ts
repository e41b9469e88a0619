import { UsageError } from '@blameboard/core';
import { equivalence2dInfo, loadEquivalence2d } from './equivalence-2d.js';
import { loadMnist, mnistInfo } from './mnist.js';
import { loadSyntheticLinear, syntheticLinearInfo } from './synthetic-linear.js';
import type { Dataset, DatasetInfo, LoadOptions } from './types.js';

const loaders: Record<string, (opts: LoadOptions) => Dataset> = {
  mnist: loadMnist,
  'synthetic-linear': loadSyntheticLinear,
  'equivalence-2d': loadEquivalence2d,
};

export const datasets: DatasetInfo[] = [mnistInfo, syntheticLinearInfo, equivalence2dInfo];

export function getDatasetInfo(id: string): DatasetInfo {
  const info = datasets.find((d) => d.id === id);
  if (!info) throw new UsageError(`unknown dataset '${id}' (known: ${datasets.map((d) => d.id).join(', ')})`);
  return info;
}

/** Loads a dataset by id. The default split is 'test' (what explanations and metrics run on). */
export async function loadDataset(id: string, opts: LoadOptions = {}): Promise<Dataset> {
  return loadDatasetSync(id, opts);
}

/** loadDataset without the promise, for a value computed when first read (the runner's data context). */
export function loadDatasetSync(id: string, opts: LoadOptions = {}): Dataset {
  getDatasetInfo(id);
  if (opts.split !== undefined && opts.split !== 'train' && opts.split !== 'test') {
    throw new UsageError(`unknown split '${String(opts.split)}' (known: train, test)`);
  }
  return loaders[id](opts);
}
