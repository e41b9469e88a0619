import { float32, type Tensor } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { InvalidSamples } from '../aggregate.js';
import { continuityScores, lipschitzEstimate } from './continuity.js';
import type { Explainer } from '../explainer.js';
import { randomDirection } from './paths.js';

/** gradient × input of f(x) = w·x, computed in JS. */
const gxi = (w: number[]): Explainer => async (inputs: Tensor) => ({
  attributions: float32(inputs.shape, Array.from(inputs.data as Float32Array, (v, i) => v * w[i % w.length])),
});
/** The uniform control f(x)/d on a linear model. */
const uniform = (w: number[]): Explainer => async (inputs: Tensor) => {
  const d = w.length;
  const x = inputs.data as Float32Array;
  const out = new Float32Array(x.length);
  for (let n = 0; n < inputs.shape[0]; n++) {
    const f = w.reduce((s, wi, i) => s + wi * x[n * d + i], 0);
    out.fill(f / d, n * d, (n + 1) * d);
  }
  return { attributions: float32(inputs.shape, out) };
};

describe('lipschitzEstimate', () => {
  it('takes the max ratio over consecutive points and skips standing still', () => {
    const p = [[0, 0], [3, 4], [3, 4], [3, 5]].map((v) => Float32Array.from(v));
    const r = [[0, 0], [1, 1], [5, 5], [5, 8]].map((v) => Float32Array.from(v));
    // segments: ‖ΔR‖₁/‖Δx‖₂ = 2/5, (skipped: Δx = 0), 3/1
    expect(lipschitzEstimate(p, r)).toBe(3);
    expect(lipschitzEstimate([p[1], p[2]], [r[1], r[2]])).toBeNaN();
  });
});

describe('continuityScores', () => {
  const w = [2, -1, 0.5, 3];

  it('equals the analytic Lipschitz value of gradient×input on a linear model (vectors)', async () => {
    // Along x + t·u: ΔR = w ⊙ Δx = Δt·(w ⊙ u), so every segment gives Σ|w_i u_i| / ‖u‖₂ = Σ|w_i u_i|.
    const inputs = float32([2, 4], [0.5, -0.2, 0.1, 0.9, -1, 1, 0.3, 0]);
    const invalid = new InvalidSamples();
    const scores = await continuityScores(inputs, new Int32Array(2), gxi(w), { distance: 1, steps: 4, direction: 'horizontal', seed: 5 }, invalid);
    const u = randomDirection(4, 5);
    const expected = w.reduce((s, wi, i) => s + Math.abs(wi * u[i]), 0);
    expect(scores[0]).toBeCloseTo(expected, 5);
    expect(scores[1]).toBeCloseTo(expected, 5);
    expect(invalid.list()).toEqual([]);
  });

  it('equals the analytic value for image translation of a linear model', async () => {
    // 1×1×4 image; translation by s < 1 moves x to (x0, x1−s(x1−x0), …): Δx per unit shift is
    // g = (0, x0−x1, x1−x2, x2−x3), constant for s ∈ [0, 1]; ratio = Σ|w_i g_i| / ‖g‖₂.
    const x = [1, 3, 0, 2];
    const inputs = float32([1, 1, 1, 4], x);
    const scores = await continuityScores(inputs, new Int32Array(1), gxi(w), { distance: 1, steps: 4, direction: 'horizontal', seed: 0 }, new InvalidSamples());
    const g = [0, x[0] - x[1], x[1] - x[2], x[2] - x[3]];
    const expected = g.reduce((s, gi, i) => s + Math.abs(w[i] * gi), 0) / Math.hypot(...g);
    expect(scores[0]).toBeCloseTo(expected, 5);
  });

  it('scores the uniform control by |Δf|/‖Δx‖ and batches in any chunk size', async () => {
    const inputs = float32([3, 4], [0.5, -0.2, 0.1, 0.9, -1, 1, 0.3, 0, 2, 2, 2, 2]);
    const opts = { distance: 0.5, steps: 8, direction: 'horizontal' as const, seed: 1 };
    const one = await continuityScores(inputs, new Int32Array(3), uniform(w), { ...opts, maxRows: 9 }, new InvalidSamples());
    const all = await continuityScores(inputs, new Int32Array(3), uniform(w), opts, new InvalidSamples());
    expect(Array.from(one)).toEqual(Array.from(all));
    // R = (f/d)·1 → ‖ΔR‖₁ = |Δf| = Δt·|w·u|.
    const u = randomDirection(4, 1);
    const expected = Math.abs(w.reduce((s, wi, i) => s + wi * u[i], 0));
    for (const v of all) expect(v).toBeCloseTo(expected, 4);
  });

  it('marks samples whose re-explained maps are not finite', async () => {
    const broken: Explainer = async (inputs) => ({ attributions: float32(inputs.shape, new Float32Array(inputs.data.length).fill(NaN)) });
    const invalid = new InvalidSamples();
    const scores = await continuityScores(float32([1, 2], [1, 2]), new Int32Array(1), broken, { distance: 1, steps: 2, direction: 'horizontal', seed: 0 }, invalid);
    expect(scores[0]).toBeNaN();
    expect(invalid.list()).toEqual([{ index: 0, reason: 're-explained attribution has NaN/Inf at path point 0' }]);
  });
});

describe('continuity metric on an ONNX model', () => {
  it('equals the analytic Lipschitz value of gradient×input on a linear model, and uniform is smoother', async () => {
    const { evaluate } = await import('../registry.js');
    const { linearModel, uniformInputs } = await import('@blameboard/testing/metric-models');
    const weights = [[0.5, -1, 2, 0.25, 1], [1, 1, -0.5, 3, -2]];
    const model = await linearModel(weights, [0.1, -0.3], [5]);
    const inputs = uniformInputs([3, 5], 8, -1, 1);
    const targets = Int32Array.from([1, 0, 1]);
    const args = { model, inputs, targets, metric: 'continuity', params: { distance: 1, steps: 4 }, seed: 2 };
    const gxi = await evaluate({ ...args, method: { id: 'gradient-x-input' } });
    const u = randomDirection(5, 2);
    targets.forEach((t, s) => {
      const expected = weights[t].reduce((sum, wi, i) => sum + Math.abs(wi * u[i]), 0);
      expect(gxi.values.lipschitz.perSample[s]).toBeCloseTo(expected, 4);
    });
    expect(gxi.values.lipschitz.direction).toBe('lower');
    // uniform: ‖ΔR‖₁ = |Δf_t| = |w_t·Δx| ≤ Σ|w_t,i Δx_i| (triangle inequality).
    const uniform = await evaluate({ ...args, method: { id: 'uniform' } });
    targets.forEach((t, s) => {
      expect(uniform.values.lipschitz.perSample[s]).toBeCloseTo(Math.abs(weights[t].reduce((sum, wi, i) => sum + wi * u[i], 0)), 4);
    });
  });

  it('defaults to 0.05 of the input range for vectors', async () => {
    const { evaluate } = await import('../registry.js');
    const { linearModel, uniformInputs } = await import('@blameboard/testing/metric-models');
    const model = await linearModel([[1, 2]], [0], [2]);
    const r = await evaluate({
      model,
      inputs: uniformInputs([2, 2], 1),
      targets: new Int32Array(2),
      metric: 'continuity',
      method: { id: 'gradient' },
      data: { range: [-2, 6] },
    });
    expect(r.params).toEqual({ steps: 16, direction: 'horizontal', distance: 0.4 });
    // The gradient of a linear model does not move at all.
    expect(r.values.lipschitz.perSample).toEqual([0, 0]);
  });
});
