import { describe, expect, it } from 'vitest';
import { loadEquivalence2d } from './equivalence-2d.js';
import { datasets, loadDataset } from './registry.js';
import { loadSyntheticLinear } from './synthetic-linear.js';

const list = (a: unknown): number[] => Array.from(a as ArrayLike<number>);

describe('synthetic-linear', () => {
  it('has seed 003 coefficients: +(i+1)/32, −(i+1)/32, 0', () => {
    const ds = loadSyntheticLinear({ count: 4 });
    const c = ds.groundTruth!;
    expect(c.length).toBe(96);
    expect(c[0]).toBeCloseTo(1 / 32, 7);
    expect(c[31]).toBeCloseTo(1, 7);
    expect(c[32]).toBeCloseTo(-1 / 32, 7);
    expect(c[63]).toBeCloseTo(-1, 7);
    expect(list(c.subarray(64))).toEqual(new Array(32).fill(0));
  });

  it('target equals coefficients · x for every sample', () => {
    const ds = loadSyntheticLinear({ count: 200, split: 'train', seed: 3 });
    expect(ds.inputs.shape).toEqual([200, 96]);
    for (let r = 0; r < 200; r++) {
      let y = 0;
      for (let i = 0; i < 32; i++) {
        y += ((i + 1) / 32) * (ds.inputs.data[r * 96 + i] as number);
        y -= ((i + 1) / 32) * (ds.inputs.data[r * 96 + 32 + i] as number);
      }
      expect(ds.labels[r]).toBeCloseTo(y, 5);
    }
  });

  it('features are U(−1, 1): in range, mean ≈ 0, variance ≈ 1/3', () => {
    const x = loadSyntheticLinear({ count: 2000 }).inputs.data as Float32Array;
    let s = 0;
    let s2 = 0;
    for (const v of x) {
      expect(v).toBeGreaterThanOrEqual(-1);
      expect(v).toBeLessThan(1);
      s += v;
      s2 += v * v;
    }
    expect(Math.abs(s / x.length)).toBeLessThan(0.01);
    expect(s2 / x.length).toBeCloseTo(1 / 3, 2);
  });

  it('is deterministic by seed, a smaller count is a prefix, train and test differ', () => {
    const a = loadSyntheticLinear({ count: 50, seed: 1 });
    const b = loadSyntheticLinear({ count: 20, seed: 1 });
    expect(list(a.inputs.data.subarray(0, 20 * 96))).toEqual(list(b.inputs.data));
    const c = loadSyntheticLinear({ count: 50, seed: 2 });
    expect(list(a.inputs.data)).not.toEqual(list(c.inputs.data));
    const train = loadSyntheticLinear({ count: 50, seed: 1, split: 'train' });
    expect(list(a.inputs.data)).not.toEqual(list(train.inputs.data));
  });

  it('rejects an image layout and a bad seed', () => {
    expect(() => loadSyntheticLinear({ layout: 'nchw' })).toThrow(/tabular/);
    expect(() => loadSyntheticLinear({ seed: -1 })).toThrow(/seed/);
  });
});

describe('equivalence-2d', () => {
  it('draws x in [0, 4)² with both networks’ value as label', () => {
    const ds = loadEquivalence2d({ count: 500, seed: 4 });
    expect(ds.inputs.shape).toEqual([500, 2]);
    let hits = 0;
    for (let r = 0; r < 500; r++) {
      const x1 = ds.inputs.data[2 * r] as number;
      const x2 = ds.inputs.data[2 * r + 1] as number;
      expect(x1).toBeGreaterThanOrEqual(0);
      expect(x2).toBeLessThan(4);
      // both closed forms of the spec agree on x ≥ 0
      expect(ds.labels[r]).toBeCloseTo(Math.max(0, Math.max(0, x1 - 1) - Math.max(0, x2)), 6);
      if (ds.labels[r] > 0) hits++;
    }
    expect(hits).toBeGreaterThan(50);
    expect(list(ds.mean.data)).toEqual([2, 2]);
    expect(list(loadEquivalence2d({ count: 500, seed: 4 }).inputs.data)).toEqual(list(ds.inputs.data));
  });
});

describe('registry', () => {
  it('lists every dataset with range and input shape, and loads by id', async () => {
    expect(datasets.map((d) => d.id)).toEqual(['mnist', 'synthetic-linear', 'equivalence-2d']);
    for (const info of datasets) {
      const ds = await loadDataset(info.id, { count: 3, layout: info.id === 'mnist' ? 'nchw' : undefined });
      expect(ds.inputs.shape).toEqual([3, ...info.inputShape]);
      expect(ds.range).toEqual(info.range);
      expect(ds.mean.shape).toEqual(info.inputShape);
      for (const v of ds.inputs.data as Float32Array) {
        expect(v).toBeGreaterThanOrEqual(info.range[0]);
        expect(v).toBeLessThanOrEqual(info.range[1]);
      }
    }
  });

  it('names the known ids for an unknown dataset or split', async () => {
    await expect(loadDataset('cifar')).rejects.toThrow(/unknown dataset 'cifar' \(known: mnist, synthetic-linear, equivalence-2d\)/);
    await expect(loadDataset('mnist', { split: 'val' as never })).rejects.toThrow(/unknown split/);
  });
});
