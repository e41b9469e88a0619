import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32 } from '@blameboard/core';
import { irFromRef, runLrp } from '@blameboard/testing/lrp-nets';
import { referenceLrp, type RefConv, type RefDense, type RefLayer } from '@blameboard/testing/lrp-reference';
import { compositeRules } from './test-utils/composite-rules.js';

afterAll(() => disposeSessions());

/**
 * The z-box exactness regression (issue 8, point 3). A first conv whose negative weights all lie
 * in the bottom kernel row, zero padding, and an image that is zero (background) except for a
 * patch: on background windows at the bottom border W⁻ meets only padding, so
 * z = Wx − W⁺L − W⁻H is exactly 0 and r = R/ε ≈ 1e6·R. R = x⊙Wᵀr − L⊙W⁺ᵀr − H⊙W⁻ᵀr keeps each
 * huge r away from every pixel (x = 0, L = 0, and W⁻ lies in the padding there); the shorter
 * (x − H)⊙Wᵀr + (H − L)⊙W⁺ᵀr cancels two terms of ~1e6·R in float32 and left errors up to 1e-2 of max|R|.
 */
describe('z-box on a first conv with zero-padded background windows', () => {
  const conv: RefConv = {
    kind: 'conv',
    // 2 output channels over 1 input channel, 3×3: rows 0–1 positive, row 2 (the bottom) negative.
    w: [
      [[[0.4, 0.7, 0.2], [0.5, 0.9, 0.3], [-0.6, -0.8, -0.4]]],
      [[[0.3, 0.1, 0.6], [0.8, 0.2, 0.5], [-0.3, -0.9, -0.7]]],
    ],
    // A positive bias (a folded BatchNorm's shift) keeps the ReLU open on the background.
    b: [0.25, 0.4],
    pads: [1, 1, 1, 1],
  };
  const h = 6;
  const w = 6;
  const dense: RefDense = {
    kind: 'dense',
    w: Array.from({ length: 2 * h * w }, (_, i) => [Math.sin(i + 1), Math.cos(3 * i)]),
    b: [0.1, -0.2],
  };
  const layers: RefLayer[] = [conv, { kind: 'relu' }, { kind: 'flatten' }, dense];
  // Background zeros with a bright patch in the top-left corner.
  const image = Array.from({ length: h * w }, (_, i) => (Math.floor(i / w) < 2 && i % w < 3 ? 0.5 + 0.1 * (i % 3) : 0));

  it('matches the float64 reference to 1e-5 of max |R| on every pixel, the border included', async () => {
    const graph = irFromRef(layers, [1, h, w]);
    const rules = compositeRules('epsilon-gamma-box');
    for (const target of [0, 1]) {
      const run = await runLrp(graph, rules, float32([1, 1, h, w], image), [target]);
      const ref = referenceLrp(layers, [1, h, w], image, target, {
        rules: [{ rule: 'z-box', low: 0, high: 1 }, { rule: 'epsilon', epsilon: 1e-6 }],
        stabilizer: 1e-6,
        bias: 'absorb',
        maxpool: 'winner-take-all',
      });
      const got = run.attribution.data as Float32Array;
      const scale = ref.relevance.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(scale).toBeGreaterThan(1e-3);
      // The setting is the one that broke the shorter formula: r reaches ~1e6·R on the bottom border.
      expect(ref.relevance.slice((h - 1) * w).some((v) => v !== 0)).toBe(true);
      let worst = 0;
      ref.relevance.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i] - v))));
      expect(worst).toBeLessThanOrEqual(1e-5 * scale);
    }
  });
});
