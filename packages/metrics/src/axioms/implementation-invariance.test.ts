import { float32, InputError, Rng } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { choosePairs, relativeL1 } from './implementation-invariance.js';

describe('relativeL1', () => {
  it('is ‖R_A − R_B‖₁ over the mean L1 norm', () => {
    const a = float32([2, 2], [1.5, -0.5, 1, 1]);
    const b = float32([2, 2], [2, -1, 1, 1]);
    // Captum's DeepLIFT on the reference pair at (3, 1): ‖Δ‖₁ = 1, ½(2 + 3) = 2.5 → 0.4
    expect(relativeL1(a, b)[0]).toBeCloseTo(0.4, 12);
    expect(relativeL1(a, b)[1]).toBe(0);
  });
});

describe('choosePairs', () => {
  it('takes the named pair, else every pair of the dataset, else those containing the model', () => {
    expect(choosePairs('mnist-cnn-split', 'x', 'mnist').map((p) => p.id)).toEqual(['mnist-cnn-split']);
    expect(choosePairs(undefined, 'mnist-cnn', 'mnist').map((p) => p.id).sort()).toEqual(['mnist-bn-fold', 'mnist-cnn-split', 'mnist-mlp-rescale']);
    expect(choosePairs(undefined, 'equivalent-b', undefined).map((p) => p.id)).toEqual(['equivalent-ab']);
    expect(() => choosePairs('nope', 'x', undefined)).toThrow(/unknown equivalent pair 'nope'; known pairs: equivalent-ab, /);
    expect(() => choosePairs(undefined, 'my.onnx', 'synthetic-linear')).toThrow(
      /implementation-invariance needs an equivalent pair: none fits dataset 'synthetic-linear'; pass params \{"pair": …\} with one of: /,
    );
  });
});

describe('implementation-invariance on the reference equivalent pair', () => {
  // Inputs near (3, 1), where Captum shows DeepLIFT splitting the two networks apart.
  const rng = new Rng(4);
  const inputs = float32([16, 2], Array.from({ length: 32 }, (_, i) => (i % 2 === 0 ? 3 : 1) + rng.uniform(-0.25, 0.25)));
  const targets = new Int32Array(16);

  it('is ≈ 0 for Integrated Gradients and > 0.3 for DeepLIFT', async () => {
    const { evaluate } = await import('../registry.js');
    const { equivalentReferencePair } = await import('@blameboard/testing/metric-models');
    const { a, b } = await equivalentReferencePair();
    const pairs = [{ id: 'equivalent', a, b }];
    const ig = await evaluate({ model: a, inputs, targets, metric: 'implementation-invariance', method: { id: 'integrated-gradients' }, pairs });
    expect(ig.values.relativeL1.direction).toBe('lower');
    expect(ig.values.relativeL1.mean).toBeLessThan(1e-5);
    const dl = await evaluate({ model: a, inputs, targets, metric: 'implementation-invariance', method: { id: 'deeplift' }, pairs });
    expect(dl.values.relativeL1.mean).toBeGreaterThan(0.3);
    const uniform = await evaluate({ model: a, inputs, targets, metric: 'implementation-invariance', method: { id: 'uniform' }, pairs });
    expect(uniform.values.relativeL1.mean).toBeLessThan(1e-5);
  });

  it('refuses two models that compute different functions', async () => {
    const { evaluate } = await import('../registry.js');
    const { mlpModel } = await import('@blameboard/testing/metric-models');
    const a = await mlpModel(2, 8, 1, 1, 'mlp-1');
    const b = await mlpModel(2, 8, 1, 2, 'mlp-2');
    const run = evaluate({ model: a, inputs, targets, metric: 'implementation-invariance', method: { id: 'gradient' }, pairs: [{ id: 'p', a, b }] });
    await expect(run).rejects.toThrow(InputError);
    await expect(run).rejects.toThrow(/pair 'p': 'mlp-1' and 'mlp-2' do not compute the same function on these inputs \(max \|f_A − f_B\| = /);
  });

  it('needs a method', async () => {
    const { evaluate } = await import('../registry.js');
    const { equivalentReferencePair } = await import('@blameboard/testing/metric-models');
    const { a, b } = await equivalentReferencePair();
    await expect(
      evaluate({ model: a, inputs, targets, metric: 'implementation-invariance', attributions: inputs, pairs: [{ id: 'p', a, b }] }),
    ).rejects.toThrow("metric 'implementation-invariance' re-explains the inputs: pass a method (--method), not only attributions");
  });
});
