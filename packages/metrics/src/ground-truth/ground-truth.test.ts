import { float32, type LoadedModel } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { groundTruth, groundTruthScores } from './ground-truth.js';

const c = [0.5, -1, 0, 2, 0];

describe('groundTruthScores', () => {
  const x = float32([1, 5], [1, 2, 3, -1, 4]);
  // R* = c ⊙ x = (0.5, −2, 0, −2, 0)

  it('is cosine 1 and no noise share for the ground truth itself', () => {
    const { cosine, noiseShare } = groundTruthScores(float32([1, 5], [0.5, -2, 0, -2, 0]), x, c, null);
    expect(cosine[0]).toBeCloseTo(1, 12);
    expect(noiseShare[0]).toBe(0);
  });

  it('matches hand-computed cosine and noise share', () => {
    // R = (1, 0, 3, 0, 1): R·R* = 0.5, ‖R‖ = √11, ‖R*‖ = √8.25; |R| on noise (2, 4) = 4 of 5.
    const { cosine, noiseShare } = groundTruthScores(float32([1, 5], [1, 0, 3, 0, 1]), x, c, null);
    expect(cosine[0]).toBeCloseTo(0.5 / Math.sqrt(11 * 8.25), 12);
    expect(noiseShare[0]).toBeCloseTo(4 / 5, 12);
  });

  it('measures against x − x′ when the method has a baseline', () => {
    const baseline = float32([1, 5], [1, 1, 1, 1, 1]);
    // R* = c ⊙ (x − 1) = (0, −1, 0, −4, 0)
    const { cosine } = groundTruthScores(float32([1, 5], [0, -1, 0, -4, 0]), x, c, baseline);
    expect(cosine[0]).toBeCloseTo(1, 12);
  });
});

describe('ground-truth metric', () => {
  const model = {} as LoadedModel; // scoring given maps needs no forward pass

  it('refuses a dataset without ground truth', async () => {
    const inputs = float32([1, 5]);
    await expect(
      groundTruth.evaluate({ model, inputs, targets: new Int32Array(1), attributions: inputs, params: {}, data: { name: 'mnist' } }),
    ).rejects.toThrow("metric 'ground-truth' needs a dataset with ground truth (synthetic-linear); dataset 'mnist' has none");
  });

  it('reports cosine (higher) and noiseShare (lower), an all-zero map invalid', async () => {
    const inputs = float32([2, 5], [1, 2, 3, -1, 4, 1, 1, 1, 1, 1]);
    const attributions = float32([2, 5], [0.5, -2, 0, -2, 0, 0, 0, 0, 0, 0]);
    const r = await groundTruth.evaluate({ model, inputs, targets: new Int32Array(2), attributions, params: {}, data: { groundTruth: Float32Array.from(c) } });
    expect(r.values.cosine.direction).toBe('higher');
    expect(r.values.noiseShare.direction).toBe('lower');
    expect(r.values.cosine.perSample).toEqual([expect.closeTo(1, 6), null]);
    expect(r.invalid).toEqual([{ index: 1, reason: 'cosine is NaN' }]);
  });
});

describe('ground-truth on the zoo synthetic-mlp', () => {
  it('gives Integrated Gradients cosine ≥ 0.95 and the random control ≈ 0', async () => {
    const { resolveModel } = await import('@blameboard/models');
    const { loadDataset } = await import('@blameboard/datasets');
    const { evaluate } = await import('../registry.js');
    const model = await resolveModel('synthetic-mlp');
    const data = await loadDataset('synthetic-linear', { split: 'test', count: 64, seed: 1 });
    const args = { model, inputs: data.inputs, targets: new Int32Array(64), metric: 'ground-truth', data: { groundTruth: data.groundTruth, range: data.range } };
    const ig = await evaluate({ ...args, method: { id: 'integrated-gradients' } });
    expect(ig.values.cosine.mean).toBeGreaterThanOrEqual(0.95);
    const random = await evaluate({ ...args, method: { id: 'random' } });
    // 96 independent N(0,1) values against a fixed direction: cosine ~ N(0, 1/96) per sample,
    // so the mean of 64 has sd (1/√96)/8 ≈ 0.0128: |mean| < 0.06 is a 4.7σ bound.
    expect(Math.abs(random.values.cosine.mean!)).toBeLessThan(0.06);
    expect(ig.values.noiseShare.mean).toBeLessThan(random.values.noiseShare.mean!);
  });
});
