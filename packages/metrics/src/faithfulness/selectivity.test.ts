import { float32, type Tensor } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { InvalidSamples, markNonFiniteAttributions } from '../aggregate.js';
import { makeFill } from '../perturbation/fills.js';
import { selectivityCurves, selectivityResult, type SelectivityOptions } from './selectivity.js';

// A linear "model" f(x) = w·x + b scored in plain JS: the curves then have a closed form.
const w = [3, -1, 2, 0.5, -2];
const b = 0.25;
const linear = async (inputs: Tensor) => {
  const d = w.length;
  const x = inputs.data as Float32Array;
  return Float64Array.from({ length: inputs.shape[0] }, (_, n) => b + w.reduce((s, wi, i) => s + wi * x[n * d + i], 0));
};
const x = [1, 2, -1, 4, 0.5];
// gradient × input of the linear model: R = w ⊙ x = [3, −2, −2, 2, −1]
const gxi = x.map((v, i) => v * w[i]);
const opts: SelectivityOptions = { patch: 1, steps: 5, fraction: 1, order: 'both', abs: false };

/** y after filling the listed features with `fillValue`, straight from the definition. */
function replay(order: number[], counts: number[], fillValue: number): number[] {
  return counts.map((n) => {
    const z = [...x];
    for (const i of order.slice(0, n)) z[i] = fillValue;
    return b + z.reduce((s, v, i) => s + v * w[i], 0);
  });
}

describe('selectivityCurves', () => {
  it('matches the closed form for gradient×input on a linear model with fill 0', async () => {
    const inputs = float32([1, 5], x);
    const curves = await selectivityCurves(inputs, new Int32Array([0]), float32([1, 5], gxi), makeFill('zero', { sampleShape: [5], seed: 0 }), opts, linear);
    // Filling feature i with 0 removes its term R_i: y_k = b + Σ R over the unfilled features.
    // MoRF removes 3, 2, −1, −2, −2; LeRF the reverse.
    expect(Array.from(curves.morf[0]!)).toEqual([0.25, -2.75, -4.75, -3.75, -1.75, 0.25]);
    expect(Array.from(curves.lerf[0]!)).toEqual([0.25, 2.25, 4.25, 5.25, 3.25, 0.25]);
    const result = selectivityResult(curves, 'both', {}, 0, new InvalidSamples(), 1);
    expect(result.values.abpc.perSample[0]).toBeCloseTo((0 + 5 + 9 + 9 + 5 + 0) / 6, 12);
    expect(result.values.aopcMorf.perSample[0]).toBeCloseTo((0 + 3 + 5 + 4 + 2 + 0) / 6, 12);
    expect(result.values.aopcLerf.perSample[0]).toBeCloseTo((0 - 2 - 4 - 5 - 3 + 0) / 6, 12);
    expect(result.values.abpc.direction).toBe('higher');
    expect(result.values.aopcLerf.direction).toBe('lower');
  });

  it('breaks ties by region index (MoRF) and reverses that order for LeRF', async () => {
    // R_1 = R_2 = −2 tie; with fill 1 they change f differently, so the order shows in the curve.
    const inputs = float32([1, 5], x);
    const curves = await selectivityCurves(inputs, new Int32Array([0]), float32([1, 5], gxi), makeFill(1, { sampleShape: [5], seed: 0 }), opts, linear);
    const counts = [0, 1, 2, 3, 4, 5];
    expect(Array.from(curves.morf[0]!)).toEqual(replay([0, 3, 4, 1, 2], counts, 1).map((v) => expect.closeTo(v, 5)));
    expect(Array.from(curves.lerf[0]!)).toEqual(replay([2, 1, 4, 3, 0], counts, 1).map((v) => expect.closeTo(v, 5)));
  });

  it('fills round(k·fraction·R/L) regions per stage', async () => {
    const inputs = float32([1, 5], x);
    const fill = makeFill('zero', { sampleShape: [5], seed: 0 });
    const curves = await selectivityCurves(inputs, new Int32Array([0]), float32([1, 5], gxi), fill, { ...opts, steps: 2 }, linear);
    // n = 0, 2.5 → 3, 5
    expect(Array.from(curves.morf[0]!)).toEqual(replay([0, 3, 4, 1, 2], [0, 3, 5], 0).map((v) => expect.closeTo(v, 5)));
    const half = await selectivityCurves(inputs, new Int32Array([0]), float32([1, 5], gxi), fill, { ...opts, steps: 4, fraction: 0.5 }, linear);
    // n = round(k·0.5·5/4) = 0, 1 (0.625), 1 (1.25), 2 (1.875), 3 (2.5)
    expect(Array.from(half.lerf[0]!)).toEqual(replay([2, 1, 4, 3, 0], [0, 1, 1, 2, 3], 0).map((v) => expect.closeTo(v, 5)));
  });

  it('gives the same curves for any batch bound and skips invalid samples', async () => {
    const n = 7;
    const xs = Array.from({ length: n * 5 }, (_, i) => Math.sin(i * 1.7) * 2);
    const inputs = float32([n, 5], xs);
    const attr = float32([n, 5], xs.map((v, i) => v * w[i % 5]));
    (attr.data as Float32Array)[3 * 5 + 2] = NaN;
    const invalid = new InvalidSamples();
    markNonFiniteAttributions(attr, invalid);
    const fill = makeFill('uniform', { sampleShape: [5], seed: 1, range: [-2, 2] });
    const targets = new Int32Array(n);
    let calls = 0;
    const counting = async (t: Tensor) => {
      calls++;
      expect(t.shape[0]).toBeLessThanOrEqual(12);
      return linear(t);
    };
    const small = await selectivityCurves(inputs, targets, attr, fill, { ...opts, maxRows: 12 }, counting, (i) => invalid.has(i));
    const large = await selectivityCurves(inputs, targets, attr, fill, opts, linear, (i) => invalid.has(i));
    // 11 distinct rows per sample (x, 4+4 partial stages, all filled): one sample per call of ≤ 12 rows.
    expect(calls).toBe(n - 1);
    expect(small).toEqual(large);
    expect(small.morf[3]).toBeNull();
    const result = selectivityResult(small, 'both', {}, 0, invalid, n);
    expect(result.values.abpc.perSample[3]).toBeNull();
    expect(result.invalid).toEqual([{ index: 3, reason: 'attribution has 1 NaN value' }]);
    expect(result.curves!.morf![3]).toBeNull();
    expect(result.curves!.lerf![3]).toBeNull();
    expect(result.curves!.morf![2]).toEqual(Array.from(small.morf[2]!));
    const valid = result.values.abpc.perSample.filter((v): v is number => v !== null);
    expect(result.values.abpc.mean).toBeCloseTo(valid.reduce((s, v) => s + v, 0) / valid.length, 12);
  });

  it('reports only the requested order', async () => {
    const inputs = float32([1, 5], x);
    const fill = makeFill('zero', { sampleShape: [5], seed: 0 });
    const curves = await selectivityCurves(inputs, new Int32Array([0]), float32([1, 5], gxi), fill, { ...opts, order: 'morf' }, linear);
    expect(curves.lerf[0]).toBeNull();
    const result = selectivityResult(curves, 'morf', {}, 0, new InvalidSamples(), 1);
    expect(Object.keys(result.values)).toEqual(['aopcMorf']);
    expect(result.curves).toEqual({ morf: [replay([0, 3, 4, 1, 2], [0, 1, 2, 3, 4, 5], 0).map((v) => expect.closeTo(v, 5))] });
    const lerfOnly = selectivityResult(
      await selectivityCurves(inputs, new Int32Array([0]), float32([1, 5], gxi), fill, { ...opts, order: 'lerf' }, linear),
      'lerf', {}, 0, new InvalidSamples(), 1,
    );
    expect(Object.keys(lerfOnly.curves!)).toEqual(['lerf']);
  });
});

describe('selectivity metric on an ONNX model', () => {
  it('gives the closed-form curves and scores of gradient×input on a linear image model with fill 0', async () => {
    const { evaluate } = await import('../registry.js');
    const { linearModel } = await import('@blameboard/testing/metric-models');
    // 1×4×4 image, patch 2 → regions TL, TR, BL, BR holding constant values 0.5, 2, −1, 0.
    // Class 1 has weight 1 on every pixel and bias 0.5, so R = gradient×input = x and the
    // region sums are 2, 8, −4, 0: MoRF order TR, TL, BR, BL.
    const value = [0.5, 2, -1, 0];
    const x = Array.from({ length: 16 }, (_, i) => value[(Math.floor(i / 8) * 2) + (Math.floor((i % 4) / 2))]);
    const model = await linearModel([new Array(16).fill(-1), new Array(16).fill(1)], [0, 0.5], [1, 4, 4]);
    const inputs = float32([1, 1, 4, 4], x);
    const result = await evaluate({
      model,
      inputs,
      targets: Int32Array.from([1]),
      attributions: float32([1, 1, 4, 4], x),
      metric: 'selectivity',
      params: { patch: 2, steps: 4, fill: 'zero', output: 'logit' },
    });
    // y0 = 0.5 + 6 = 6.5; MoRF removes 8, 2, 0, −4; LeRF removes −4, 0, 2, 8.
    expect(result.curves!.morf![0]).toEqual([6.5, -1.5, -3.5, -3.5, 0.5].map((v) => expect.closeTo(v, 5)));
    expect(result.curves!.lerf![0]).toEqual([6.5, 10.5, 10.5, 8.5, 0.5].map((v) => expect.closeTo(v, 5)));
    expect(result.values.abpc.mean).toBeCloseTo(38 / 5, 5);
    expect(result.values.aopcMorf.mean).toBeCloseTo(34 / 5, 5);
    expect(result.values.aopcLerf.mean).toBeCloseTo(-4 / 5, 5);
    expect(result.params).toMatchObject({ patch: 2, steps: 4, fraction: 1, order: 'both', fill: 'zero', output: 'logit', abs: false });
    expect(Object.keys(result)).toEqual(['metric', 'params', 'values', 'curves']);
  });

  it('follows the target probability by default and refuses unknown parameters', async () => {
    const { evaluate } = await import('../registry.js');
    const { linearModel, uniformInputs } = await import('@blameboard/testing/metric-models');
    const model = await linearModel([[1, 2, 3], [-1, 0, 2]], [0, 0.1], [3]);
    const inputs = uniformInputs([4, 3], 1);
    const attributions = uniformInputs([4, 3], 2, -1, 1);
    const result = await evaluate({ model, inputs, targets: new Int32Array(4), attributions, metric: 'selectivity', params: { steps: 3 } });
    for (const curve of [...result.curves!.morf!, ...result.curves!.lerf!]) {
      expect(curve).toHaveLength(4);
      for (const p of curve!) {
        expect(p).toBeGreaterThan(0);
        expect(p).toBeLessThan(1);
      }
    }
    await expect(evaluate({ model, inputs, targets: new Int32Array(4), attributions, metric: 'selectivity', params: { stpes: 3 } })).rejects.toThrow(
      /unknown parameter 'stpes' for metric 'selectivity'; known parameters: patch, steps/,
    );
  });
});

describe('selectivity defaults', () => {
  it('runs every parameter left out at its ParamSpec default, through the registry or called directly with resolved parameters', async () => {
    const { evaluate } = await import('../registry.js');
    const { resolveParams } = await import('@blameboard/core');
    const { defaultPatch, selectivity } = await import('./selectivity.js');
    const { linearModel, uniformInputs } = await import('@blameboard/testing/metric-models');
    const model = await linearModel([[1, 2, 3], [-1, 0, 2]], [0, 0.1], [3]);
    const request = { model, inputs: uniformInputs([2, 3], 1), targets: new Int32Array(2), attributions: uniformInputs([2, 3], 2, -1, 1) };
    const defaults = Object.fromEntries(selectivity.params.filter((s) => s.default !== undefined).map((s) => [s.name, s.default]));
    const implicit = await evaluate({ ...request, metric: 'selectivity' });
    expect(implicit.params).toEqual({ ...defaults, patch: defaultPatch([3]) });
    for (const curve of [...implicit.curves!.morf!, ...implicit.curves!.lerf!]) expect(curve).toHaveLength((defaults.steps as number) + 1);
    expect(await evaluate({ ...request, metric: 'selectivity', params: defaults })).toEqual(implicit);
    const direct = await selectivity.evaluate({ ...request, params: resolveParams("metric 'selectivity'", selectivity.params, {}) });
    expect(direct).toEqual(implicit);
  });
});

describe('selectivity fill guard', () => {
  it('refuses a fill with a non-finite value in one line (the scorer does not rescan the rows)', async () => {
    const { evaluate } = await import('../registry.js');
    const { linearModel, uniformInputs } = await import('@blameboard/testing/metric-models');
    const model = await linearModel([[1, 2, 3], [-1, 0, 2]], [0, 0.1], [3]);
    const inputs = uniformInputs([2, 3], 1);
    const mean = float32([3], [0.5, NaN, 0.5]);
    await expect(
      evaluate({ model, inputs, targets: new Int32Array(2), attributions: inputs, metric: 'selectivity', params: { fill: 'mean', steps: 3 }, data: { mean } }),
    ).rejects.toThrow(/^selectivity fill: value NaN at feature 1 is not finite$/);
  });
});
