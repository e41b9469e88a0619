import { afterAll, describe, expect, it } from 'vitest';
import { compileExplanation, disposeSessions, float32 } from '@blameboard/core';
import { compiledRun, graphOf, node } from '@blameboard/testing/graphs';
import { gradientRules } from './index.js';

afterAll(() => disposeSessions());

const rules = gradientRules();

describe('ReLU mask', () => {
  // Edge values of float32 around 0, cycled over 16 channels × 2×2 (the blocked-layout mask's case).
  const edges = [0, -0, 1.4e-45, 1e-40, 1.1754942e-38, 1.1754944e-38, 1e-30, 0.5, 1, 3.4e38, -1.4e-45, -1e-40, -1, -3.4e38, 2 ** -126, 7];

  it('is [y > 0] bit for bit on 16-channel images, subnormal and huge outputs included', async () => {
    const g = graphOf([node('Relu', ['x'], ['y'])], {}, ['N', 16, 2, 2]);
    const compiled = compileExplanation(g, rules, { start: 'seed-input' }).graph;
    // The mask runs as a depthwise Conv with a HardSigmoid, not as Greater + Cast.
    expect(compiled.nodes.map((n) => n.opType)).toEqual(expect.arrayContaining(['Conv', 'HardSigmoid']));
    expect(compiled.nodes.map((n) => n.opType)).not.toContain('Greater');
    const n = 2 * 16 * 4;
    const x = float32([2, 16, 2, 2], Array.from({ length: n }, (_, i) => edges[(i * 7) % edges.length]));
    const s = float32([2, 16, 2, 2], Array.from({ length: n }, (_, i) => 1 + (i % 5) / 4));
    const { attribution } = await compiledRun(g, rules, x, s);
    const got = attribution.data as Float32Array;
    const xs = x.data as Float32Array;
    const ss = s.data as Float32Array;
    for (let i = 0; i < n; i++) expect(got[i], `x = ${xs[i]}`).toBe(xs[i] > 0 ? ss[i] : 0);
  });

  it('is the same on layouts the blocked mask does not take (3 channels, a dense layer)', async () => {
    for (const shape of [[3, 2, 2], [16]]) {
      const g = graphOf([node('Relu', ['x'], ['y'])], {}, ['N', ...shape]);
      const n = 2 * shape.reduce((p, d) => p * d, 1);
      const x = float32([2, ...shape], Array.from({ length: n }, (_, i) => edges[(i * 7) % edges.length]));
      const s = float32([2, ...shape], Array.from({ length: n }, () => 1));
      const { attribution } = await compiledRun(g, rules, x, s);
      const xs = x.data as Float32Array;
      Array.from(attribution.data as Float32Array).forEach((v, i) => expect(v, `x = ${xs[i]}`).toBe(xs[i] > 0 ? 1 : 0));
    }
  });
});
