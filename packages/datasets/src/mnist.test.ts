import { join } from 'node:path';
const list = (a: unknown): number[] => Array.from(a as ArrayLike<number>);
import { describe, expect, it } from 'vitest';
import { DatasetError, encodeIdx } from './idx.js';
import { decodeMnist, loadMnist, mnistDataDir } from './mnist.js';

import { readFileSync } from 'node:fs';

describe('mnist', () => {
  it('has 60k training and 10k test images', () => {
    expect(loadMnist({ split: 'train' }).labels.length).toBe(60_000);
    const test = loadMnist({ split: 'test' });
    expect(test.inputs.shape).toEqual([10_000, 1, 28, 28]);
  });

  it('scales bytes to [0, 1] and keeps the file bytes exactly', () => {
    const ds = loadMnist({ split: 'test', count: 5 });
    const raw = readFileSync(join(mnistDataDir(), 't10k-images-idx3-ubyte'));
    const labels = readFileSync(join(mnistDataDir(), 't10k-labels-idx1-ubyte'));
    for (let i = 0; i < 5 * 784; i++) expect(ds.inputs.data[i]).toBeCloseTo(raw[16 + i] / 255, 7);
    expect(list(ds.labels)).toEqual(list(labels.subarray(8, 13)));
    // The well-known first test digits of MNIST.
    expect(list(ds.labels)).toEqual([7, 2, 1, 0, 4]);
    let min = Infinity;
    let max = -Infinity;
    for (const v of ds.inputs.data as Float32Array) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
  });

  it('flat layout holds the same values as [N, 784]', () => {
    const a = loadMnist({ count: 3, layout: 'flat' });
    const b = loadMnist({ count: 3, layout: 'nchw' });
    expect(a.inputs.shape).toEqual([3, 784]);
    expect(a.mean.shape).toEqual([784]);
    expect(b.mean.shape).toEqual([1, 28, 28]);
    expect(list(a.inputs.data)).toEqual(list(b.inputs.data));
  });

  it('selects the same samples for the same seed and different ones for another', () => {
    const a = loadMnist({ split: 'train', count: 100, seed: 7 });
    const b = loadMnist({ split: 'train', count: 100, seed: 7 });
    const c = loadMnist({ split: 'train', count: 100, seed: 8 });
    expect(list(a.indices!)).toEqual(list(b.indices!));
    expect(list(a.inputs.data)).toEqual(list(b.inputs.data));
    expect(list(a.indices!)).not.toEqual(list(c.indices!));
    expect(new Set(a.indices).size).toBe(100);
    // the selected rows are the images at those file positions
    const all = loadMnist({ split: 'train', layout: 'flat' });
    const k = 42;
    const row = a.indices![k];
    expect(list(a.inputs.data.subarray(k * 784, (k + 1) * 784))).toEqual(
      list(all.inputs.data.subarray(row * 784, (row + 1) * 784)),
    );
    expect(a.labels[k]).toBe(all.labels[row]);
  });

  it('mean is the training-set mean image, in [0, 1]', () => {
    const all = loadMnist({ split: 'train', layout: 'flat' });
    const ds = loadMnist({ count: 1, layout: 'flat' });
    for (const p of [0, 300, 406, 783]) {
      let s = 0;
      for (let i = 0; i < 60_000; i++) s += all.inputs.data[i * 784 + p] as number;
      expect(ds.mean.data[p]).toBeCloseTo(s / 60_000, 5);
    }
  });

  it('rejects bad counts and layouts', () => {
    expect(() => loadMnist({ count: 0 })).toThrow(/count must be/);
    expect(() => loadMnist({ count: 10_001 })).toThrow(/count must be/);
    expect(() => loadMnist({ layout: 'nhwc' as never })).toThrow(/unknown layout/);
  });

  it('decodeMnist checks the image dimensions and that labels match', () => {
    const img = encodeIdx([2, 28, 28], new Uint8Array(2 * 784));
    expect(() => decodeMnist(encodeIdx([2, 27, 28], new Uint8Array(2 * 27 * 28)), encodeIdx([2], new Uint8Array(2)))).toThrow(
      /expected dimensions \[N, 28, 28\]/,
    );
    expect(() => decodeMnist(img, encodeIdx([3], new Uint8Array(3)))).toThrow(DatasetError);
    expect(() => decodeMnist(img, encodeIdx([2], Uint8Array.from([1, 12])))).toThrow(/not a digit/);
    expect(decodeMnist(img, encodeIdx([2], Uint8Array.from([1, 9]))).labels.dims).toEqual([2]);
  });
});
