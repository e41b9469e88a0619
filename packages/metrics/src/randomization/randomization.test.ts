import { float32, Rng, type LoadedModel } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { rankCorrelations } from './randomization.js';

describe('rankCorrelations', () => {
  it('is |Spearman ρ| per sample', () => {
    const a = float32([2, 3], [1, 2, 3, 1, 2, 3]);
    const b = float32([2, 3], [30, 20, 10, 5, 5, 5]);
    expect(Array.from(rankCorrelations(a, b))).toEqual([1, 0]);
  });
});

describe('randomization metric', () => {
  const rng = new Rng(3);
  const inputs = float32([6, 10], Array.from({ length: 60 }, () => rng.uniform(-1, 1)));
  const targets = Int32Array.from([0, 1, 2, 0, 1, 2]);

  it('re-initialises the linear layers cumulatively from the top', async () => {
    const { randomizationCascade } = await import('./randomization.js');
    const { mlpModel } = await import('@blameboard/testing/metric-models');
    const model = await mlpModel(10, 16, 3, 1);
    const stages: { layer: string; model: LoadedModel }[] = [];
    for await (const stage of randomizationCascade(model, 0)) stages.push(stage);
    expect(stages.map((s) => s.layer)).toEqual(['Gemm_y', 'Gemm_h']);
    const w = (m: LoadedModel, name: string) => Array.from(m.graph!.initializers.get(name)!.data as Float32Array);
    const original = (name: string) => Array.from(model.graph!.initializers.get(name)!.data as Float32Array);
    expect(w(stages[0].model, 'W2')).not.toEqual(original('W2'));
    expect(w(stages[0].model, 'W1')).toEqual(original('W1'));
    expect(w(stages[1].model, 'W1')).not.toEqual(original('W1'));
    expect(w(stages[1].model, 'W2')).toEqual(w(stages[0].model, 'W2'));
  });

  it('is exactly 1 for the uniform control and below 1 for the gradient', async () => {
    const { evaluate } = await import('../registry.js');
    const { mlpModel } = await import('@blameboard/testing/metric-models');
    const model = await mlpModel(10, 16, 3, 1);
    const uniform = await evaluate({ model, inputs, targets, metric: 'randomization', method: { id: 'uniform' } });
    expect(uniform.values.rankCorrelation.perSample).toEqual(new Array(6).fill(1));
    expect(uniform.values.rankCorrelation.direction).toBe('lower');
    const gradient = await evaluate({ model, inputs, targets, metric: 'randomization', method: { id: 'gradient' } });
    expect(gradient.values.rankCorrelation.mean).toBeLessThan(1);
  });
});

describe('randomization on the zoo mnist-cnn', () => {
  it('is low for the gradient and 1 for the uniform control', async () => {
    const { resolveModel } = await import('@blameboard/models');
    const { loadDataset } = await import('@blameboard/datasets');
    const { evaluate } = await import('../registry.js');
    const { predictClasses } = await import('../model-output.js');
    const model = await resolveModel('mnist-cnn');
    const data = await loadDataset('mnist', { split: 'test', count: 8 });
    const targets = await predictClasses(model, data.inputs);
    const run = (method: string) => evaluate({ model, inputs: data.inputs, targets, metric: 'randomization', method: { id: method } });
    expect((await run('uniform')).values.rankCorrelation.mean).toBe(1);
    expect((await run('gradient')).values.rankCorrelation.mean).toBeLessThan(0.5);
  });
});
