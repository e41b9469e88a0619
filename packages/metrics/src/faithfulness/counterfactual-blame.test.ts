import { float32, type Tensor } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { classMeansOf, counterfactualScores, type Classifier } from './counterfactual-blame.js';
import { regionGrid } from '../perturbation/regions.js';

// Two classes over 4 features: class 1 wins when Σ x > 2 (logits (2, Σx)).
const classify: Classifier = async (x: Tensor) => {
  const data = x.data as Float32Array;
  return Int32Array.from({ length: x.shape[0] }, (_, n) => (data[n * 4] + data[n * 4 + 1] + data[n * 4 + 2] + data[n * 4 + 3] > 2 ? 1 : 0));
};

describe('counterfactualScores', () => {
  const inputs = float32([2, 4], [0, 0, 0, 0, 0.1, 0.1, 0.1, 0.1]);
  const fill = Float32Array.from([1, 1, 1, 1]);
  const grid = regionGrid([4], 1);

  it('replaces regions by decreasing |attribution| until the gold class wins', async () => {
    // |R| = 2, 0.5, 3, 1: features are replaced in the order 2, 0, 3, 1.
    const cases = [
      { index: 0, gold: 1, attribution: Float32Array.from([-2, 0.5, 3, 1]), fill },
      // Sample 1 with fill 0.2: Σ x never exceeds 2 → fraction 1, no success.
      { index: 1, gold: 1, attribution: Float32Array.from([1, 1, 1, 1]), fill: new Float32Array(4).fill(0.2) },
    ];
    const { fraction, success } = await counterfactualScores(inputs, cases, grid, classify, { block: 2, maxRows: 2 });
    // Sample 0: after 2 → Σ=1, after 0 → Σ=2 (not > 2), after 3 → Σ=3 > 2: 3 of 4 features.
    expect(Array.from(fraction)).toEqual([0.75, 1]);
    expect(Array.from(success)).toEqual([1, 0]);
  });

  it('counts features, not regions, when edge regions are smaller', async () => {
    const big = regionGrid([1, 3, 3], 2); // regions of 4, 2, 2, 1 pixels
    const x = float32([1, 1, 3, 3], new Float32Array(9));
    const nine: Classifier = async (t) => {
      const v = t.data as Float32Array;
      return Int32Array.from({ length: t.shape[0] }, (_, n) => (v.subarray(n * 9, n * 9 + 9).reduce((s, a) => s + a, 0) >= 5 ? 1 : 0));
    };
    const attribution = Float32Array.from([0, 0, 5, 0, 0, 5, 1, 1, 9]); // region sums: 0, 10, 2, 9
    const { fraction } = await counterfactualScores(x, [{ index: 0, gold: 1, attribution, fill: new Float32Array(9).fill(1) }], big, nine);
    // Region 1 (2 px) then region 3 (1 px) → 3 px, then region 2 (2 px) → 5 px ≥ 5.
    expect(fraction[0]).toBeCloseTo(5 / 9, 12);
  });
});

describe('classMeansOf', () => {
  it('averages the inputs of each class', () => {
    const m = classMeansOf(float32([3, 2], [1, 2, 3, 4, 5, 6]), Int32Array.from([1, 0, 1]), 3);
    expect(Array.from(m.data as Float32Array)).toEqual([3, 4, 3, 4, 0, 0]);
  });
});

describe('counterfactual-blame metric on an ONNX model', () => {
  // Logits (2, Σx): class 1 wins when Σx > 2.
  const weights = [[0, 0, 0, 0], [1, 1, 1, 1]];

  it('replaces the most blamed regions with the gold class mean until the model agrees', async () => {
    const { evaluate } = await import('../registry.js');
    const { linearModel } = await import('@blameboard/testing/metric-models');
    const model = await linearModel(weights, [2, 0], [4]);
    // Sample 0 (Σ = 0.4) is misclassified as 0; sample 1 (Σ = 2.8) is right; sample 2 (Σ = 0.4) has gold 0: right.
    const inputs = float32([3, 4], [0.1, 0.1, 0.1, 0.1, 0.7, 0.7, 0.7, 0.7, 0.1, 0.1, 0.1, 0.1]);
    const labels = Int32Array.from([1, 1, 0]);
    const classMeans = float32([2, 4], [0, 0, 0, 0, 1, 1, 1, 1]);
    const result = await evaluate({
      model,
      inputs,
      targets: labels,
      metric: 'counterfactual-blame',
      method: { id: 'gradient-x-input' },
      data: { labels, classMeans },
    });
    // gradient×input for class 1 is x: all tied → features 0, 1, … replaced by 1:
    // Σ = 1.3 after one, 2.2 > 2 after two → half the input.
    expect(result.values.fractionReplaced.perSample).toEqual([0.5, null, null]);
    expect(result.values.successRate.perSample).toEqual([1, null, null]);
    expect(result.values.fractionReplaced.direction).toBe('lower');
    expect(result.skipped).toEqual([
      { index: 1, reason: 'correctly classified' },
      { index: 2, reason: 'correctly classified' },
    ]);
    expect(result.invalid).toBeUndefined();
  });

  it('scores 1 with no success when even the fully replaced input stays wrong', async () => {
    const { evaluate } = await import('../registry.js');
    const { linearModel } = await import('@blameboard/testing/metric-models');
    const model = await linearModel(weights, [2, 0], [4]);
    const inputs = float32([1, 4], [0.1, 0.1, 0.1, 0.1]);
    const labels = Int32Array.from([1]);
    // Fill 0.25: Σ ≤ 1 < 2 whatever is replaced.
    const result = await evaluate({
      model,
      inputs,
      targets: labels,
      attributions: float32([1, 4], [1, 2, 3, 4]),
      metric: 'counterfactual-blame',
      params: { fill: 0.25 },
    });
    expect(result.values.fractionReplaced.perSample).toEqual([1]);
    expect(result.values.successRate.mean).toBe(0);
  });
});

describe('counterfactual-blame on the zoo mnist-cnn (seed 000)', () => {
  it('needs less of the input replaced when following blame than following random maps', async () => {
    const { resolveModel } = await import('@blameboard/models');
    const { loadDataset } = await import('@blameboard/datasets');
    const { evaluate } = await import('../registry.js');
    const model = await resolveModel('mnist-cnn');
    const train = await loadDataset('mnist', { split: 'train', count: 2000, seed: 0 });
    const test = await loadDataset('mnist', { split: 'test', count: 1000 });
    const labels = test.labels as Int32Array;
    const data = { mean: test.mean, range: test.range, labels, classMeans: classMeansOf(train.inputs, train.labels as Int32Array, 10), reference: train.inputs };
    const run = (id: string) => evaluate({ model, inputs: test.inputs, targets: labels, metric: 'counterfactual-blame', method: { id }, data });
    const blame = await run('blame');
    const random = await run('random');
    const misclassified = blame.values.fractionReplaced.perSample.filter((v) => v !== null).length;
    expect(misclassified).toBeGreaterThan(5);
    expect(blame.skipped).toHaveLength(1000 - misclassified);
    expect(blame.values.fractionReplaced.mean).toBeLessThan(random.values.fractionReplaced.mean!);
  });
});
