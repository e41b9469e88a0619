import { float32, type Tensor } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { biasTotals, relativeResiduals } from './conservation.js';

describe('relativeResiduals', () => {
  const attr = float32([2, 3], [1, 2, 3, -1, 0.5, 0.5]);

  it('is |ΣR + bias − (f(x) − f(x′))| / |f(x)|', () => {
    // ΣR per sample: 6 and 0. The denominator carries a 1e-12 guard: 0.1/(0.1 + 1e-12).
    expect(Array.from(relativeResiduals(attr, [6, 0.1], null, null))).toEqual([0, 0.1 / (0.1 + 1e-12)]);
    expect(Array.from(relativeResiduals(attr, [7, 2], [1, 2], null))).toEqual([0, 0]);
    expect(Array.from(relativeResiduals(attr, [8, 4], null, [2, 1]))).toEqual([0, expect.closeTo(3 / 4, 12)]);
  });

  it('sums the bias relevance of every layer', () => {
    expect(Array.from(biasTotals([{ perSample: [1, 2] }, { perSample: [0.5, -1] }], 2)!)).toEqual([1.5, 1]);
    expect(biasTotals(undefined, 2)).toBeNull();
  });
});

describe('conservation metric on ONNX models', () => {
  // Bias-free linear model: gradient×input (= LRP-0) sums exactly to f_t(x).
  const w = [[0.5, -1, 2, 0.25], [1, 1, -0.5, 3]];
  const gxi = (x: Tensor, t: number) => float32(x.shape, Array.from(x.data as Float32Array, (v, i) => v * w[t][i % 4]));

  it('is 0 for exact gradient×input and exactly the injected error otherwise', async () => {
    const { evaluate } = await import('../registry.js');
    const { linearModel } = await import('@blameboard/testing/metric-models');
    const model = await linearModel(w, [0, 0], [4]);
    const inputs = float32([2, 4], [1, 2, 3, 4, -1, 0.5, 2, 1]);
    const targets = Int32Array.from([1, 1]);
    const exact = gxi(inputs, 1);
    const clean = await evaluate({ model, inputs, targets, attributions: exact, metric: 'conservation' });
    for (const v of clean.values.relativeError.perSample) expect(v).toBeLessThan(1e-6);
    expect(clean.values.withinTolerance.mean).toBe(1);
    expect(clean.values.relativeError.direction).toBe('lower');
    expect(clean.values.withinTolerance.direction).toBe('higher');

    const injected = float32(exact.shape, exact.data as Float32Array);
    (injected.data as Float32Array)[2] += 0.75; // sample 0 gets +0.75
    (injected.data as Float32Array)[5] -= 0.25; // sample 1 gets −0.25
    const fx = [1 + 2 - 1.5 + 12, -1 + 0.5 - 1 + 3];
    const broken = await evaluate({ model, inputs, targets, attributions: injected, metric: 'conservation' });
    expect(broken.values.relativeError.perSample[0]).toBeCloseTo(0.75 / fx[0], 6);
    expect(broken.values.relativeError.perSample[1]).toBeCloseTo(0.25 / fx[1], 6);
    expect(broken.values.withinTolerance.mean).toBe(0);
  });

  it('counts the bias it cannot see as residual and excludes NaN samples', async () => {
    const { evaluate } = await import('../registry.js');
    const { linearModel } = await import('@blameboard/testing/metric-models');
    const model = await linearModel(w, [0.5, -2], [4]);
    const inputs = float32([3, 4], [1, 2, 3, 4, -1, 0.5, 2, 1, 0, 0, 1, 1]);
    const attributions = gxi(inputs, 1);
    (attributions.data as Float32Array)[9] = NaN;
    const result = await evaluate({ model, inputs, targets: Int32Array.from([1, 1, 1]), attributions, metric: 'conservation', params: { tolerance: 0.5 } });
    // ΣR = f(x) − b with b = −2: residual 2/|f(x)|, f = 13.5 − 2 = 11.5 for sample 0.
    expect(result.values.relativeError.perSample[0]).toBeCloseTo(2 / 11.5, 6);
    expect(result.values.relativeError.perSample[2]).toBeNull();
    expect(result.invalid).toEqual([{ index: 2, reason: 'attribution has 1 NaN value' }]);
    expect(result.values.relativeError.mean).toBeCloseTo(
      (result.values.relativeError.perSample[0]! + result.values.relativeError.perSample[1]!) / 2,
      12,
    );
  });
});

describe('conservation with the methods', () => {
  it('is 0 for bias-free LRP-0, and counts LRP bias relevance when the bias is explicit', async () => {
    const { evaluate } = await import('../registry.js');
    const { mlpModel, uniformInputs, modelOf } = await import('@blameboard/testing/metric-models');
    const inputs = uniformInputs([4, 6], 3, -1, 1);
    const targets = Int32Array.from([0, 1, 2, 0]);
    const biased = await mlpModel(6, 8, 3, 7);
    // The same network with every bias set to 0.
    const graph = biased.graph!;
    const zeroed = new Map(graph.initializers);
    for (const name of ['B1', 'B2']) zeroed.set(name, { ...zeroed.get(name)!, data: new Float32Array(zeroed.get(name)!.data.length) });
    const biasFree = await modelOf({ ...graph, initializers: zeroed }, 'mlp-no-bias');
    const lrp0 = { id: 'lrp', params: { composite: 'epsilon', epsilon: 0 } };
    const free = await evaluate({ model: biasFree, inputs, targets, metric: 'conservation', method: lrp0 });
    for (const v of free.values.relativeError.perSample) expect(v).toBeLessThan(1e-5);
    const absorbed = await evaluate({ model: biased, inputs, targets, metric: 'conservation', method: lrp0 });
    const explicit = await evaluate({ model: biased, inputs, targets, metric: 'conservation', method: { id: 'lrp', params: { ...lrp0.params, bias: 'explicit' } } });
    for (const v of explicit.values.relativeError.perSample) expect(v).toBeLessThan(1e-5);
    expect(absorbed.values.relativeError.mean).toBeGreaterThan(1e-3);
  });

  it('explains f(x) − f(x′) for baseline methods, with the baseline the method used', async () => {
    const { evaluate } = await import('../registry.js');
    const { linearModel, uniformInputs } = await import('@blameboard/testing/metric-models');
    // Linear with bias: IG and DeepLIFT sum exactly to f(x) − f(x′); f(x′) ≠ 0 for every baseline.
    const model = await linearModel([[0.5, -1, 2, 0.25], [1, 1, -0.5, 3]], [0.7, -0.4], [4]);
    const inputs = uniformInputs([5, 4], 11, -1, 1);
    const targets = Int32Array.from([0, 1, 0, 1, 1]);
    const data = { mean: float32([4], [0.1, 0.2, 0.3, 0.4]), range: [-1, 1] as [number, number] };
    for (const baseline of ['zero', 'mean', 'uniform', 'blur', 0.5]) {
      for (const id of ['integrated-gradients', 'deeplift']) {
        const r = await evaluate({ model, inputs, targets, metric: 'conservation', method: { id, params: { baseline } }, data });
        for (const v of r.values.relativeError.perSample) expect(v, `${id} baseline ${baseline}`).toBeLessThan(1e-5);
      }
    }
    // Against f(x) alone, the bias (and the baseline's output) is left over.
    const asOutput = await evaluate({ model, inputs, targets, metric: 'conservation', method: { id: 'integrated-gradients' }, params: { reference: 'output' } });
    expect(asOutput.values.relativeError.mean).toBeGreaterThan(1e-2);
  });

  it('is perfect for the uniform control', async () => {
    const { evaluate } = await import('../registry.js');
    const { mlpModel, uniformInputs } = await import('@blameboard/testing/metric-models');
    const model = await mlpModel(6, 8, 3, 2);
    const r = await evaluate({ model, inputs: uniformInputs([4, 6], 1), targets: new Int32Array(4), metric: 'conservation', method: { id: 'uniform' } });
    for (const v of r.values.relativeError.perSample) expect(v).toBeLessThan(1e-5);
  });
});
