import { float32, UsageError } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { evaluate, getMetric, metrics } from './registry.js';

describe('metric registry', () => {
  it('lists every metric of SPEC §4 once, each with described parameters', () => {
    expect(metrics.map((m) => m.id)).toEqual([
      'selectivity',
      'conservation',
      'continuity',
      'implementation-invariance',
      'randomization',
      'ground-truth',
      'sparseness',
      'complexity',
      'counterfactual-blame',
    ]);
    for (const m of metrics) for (const p of m.params) expect(p.description.length).toBeGreaterThan(10);
  });

  it('documents a range for every numeric parameter, and refuses a value beyond it', async () => {
    const { linearModel } = await import('@blameboard/testing/metric-models');
    const model = await linearModel([[1, 2, 3]], [0], [3]);
    const inputs = float32([1, 3], [1, 2, 3]);
    for (const m of metrics) {
      for (const p of m.params) {
        if (p.type !== 'number' && p.type !== 'integer' && !p.allowNumber) continue;
        expect(Number.isFinite(p.min), `${m.id}.${p.name} min`).toBe(true);
        expect(Number.isFinite(p.max), `${m.id}.${p.name} max`).toBe(true);
        expect(p.min!).toBeLessThan(p.max!);
        await expect(
          evaluate({ model, inputs, targets: Int32Array.of(0), metric: m.id, params: { [p.name]: p.max! * 2 + 1 }, attributions: inputs, method: { id: 'gradient' } }),
          `${m.id}.${p.name}`,
        ).rejects.toThrow(`parameter '${p.name}' of metric '${m.id}' must be ≤ ${p.max}`);
      }
    }
  });

  it('refuses unknown ids with the known ones', () => {
    expect(() => getMetric('selectivty')).toThrow(UsageError);
    expect(() => getMetric('selectivty')).toThrow(/unknown metric 'selectivty'; known metrics: selectivity, conservation, continuity/);
  });
});

describe('evaluate', () => {
  it('validates before computing: parameters, attribution shape, method presence', async () => {
    const { linearModel } = await import('@blameboard/testing/metric-models');
    const model = await linearModel([[1, 2, 3]], [0], [3]);
    const inputs = float32([2, 3], [1, 2, 3, 4, 5, 6]);
    const targets = new Int32Array(2);
    await expect(evaluate({ model, inputs, targets, metric: 'sparseness', params: { x: 1 } })).rejects.toThrow(
      "unknown parameter 'x' for metric 'sparseness'; known parameters: (none)",
    );
    await expect(evaluate({ model, inputs, targets, metric: 'selectivity', params: { fill: 'noise' } })).rejects.toThrow(
      "parameter 'fill' of metric 'selectivity' must be one of zero, mean, uniform, blur or a number, got 'noise'",
    );
    await expect(evaluate({ model, inputs, targets, metric: 'sparseness', attributions: float32([2, 2]) })).rejects.toThrow(
      'attributions have shape [2,2] but the inputs have [2,3]',
    );
    await expect(evaluate({ model, inputs, targets, metric: 'sparseness' })).rejects.toThrow(
      "metric 'sparseness' needs attributions (--attributions) or a method (--method)",
    );
    await expect(evaluate({ model, inputs, targets, metric: 'continuity', attributions: inputs })).rejects.toThrow(UsageError);
    await expect(evaluate({ model, inputs, targets, metric: 'conservation', method: { id: 'nope' } })).rejects.toThrow(/unknown method 'nope'/);
  });

  it('explains with the method when only a method is given', async () => {
    const { linearModel } = await import('@blameboard/testing/metric-models');
    const model = await linearModel([[1, 2, 3]], [0], [3]);
    const inputs = float32([2, 3], [1, 2, 3, 4, 5, 6]);
    const r = await evaluate({ model, inputs, targets: new Int32Array(2), metric: 'conservation', method: { id: 'gradient-x-input' } });
    // Bias-free linear model: gradient×input sums to f(x).
    for (const v of r.values.relativeError.perSample) expect(v).toBeLessThan(1e-6);
    expect(r.values.withinTolerance.mean).toBe(1);
  });
});
