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

/** The float32 next to `v` towards +∞ (`up`) or −∞. */
function nextFloat(v: number, up: boolean): number {
  const f = Float32Array.of(v);
  const bits = new Int32Array(f.buffer);
  if (v === 0) return up ? 1.4e-45 : -1.4e-45;
  bits[0] += (v > 0) === up ? 1 : -1;
  return f[0];
}

describe('Clip and HardSigmoid masks', () => {
  const cases: [string, number, number][] = [
    ['ReLU6', 0, 6],
    ['uneven bounds', -1.5, 2.5],
  ];
  for (const [name, lo, hi] of cases) {
    it(`Clip ${name} passes the signal exactly where lo < x < hi, bounds and their neighbours included`, async () => {
      const g = graphOf([node('Clip', ['x', 'lo', 'hi'], ['y'])], { lo: float32([], [lo]), hi: float32([], [hi]) }, ['N', 16, 2, 2]);
      const probes = [lo, hi, nextFloat(lo, true), nextFloat(lo, false), nextFloat(hi, true), nextFloat(hi, false), (lo + hi) / 2, lo - 3, hi + 3, 0, 1e-40, -1e-40, 3.4e38, -3.4e38, 1e-30, lo + 1e-6];
      const n = 2 * 16 * 4;
      const x = float32([2, 16, 2, 2], Array.from({ length: n }, (_, i) => probes[(i * 5) % probes.length]));
      const { attribution } = await compiledRun(g, rules, x, float32([2, 16, 2, 2], Array.from({ length: n }, () => 1)));
      const xs = x.data as Float32Array;
      Array.from(attribution.data as Float32Array).forEach((v, i) => expect(v, `x = ${xs[i]}`).toBe(xs[i] > lo && xs[i] < hi ? 1 : 0));
    });
  }
  it('HardSigmoid on 16 channels: slope α strictly inside its ramp, 0 on and beyond its ends', async () => {
    const alpha = 0.25;
    const g = graphOf([node('HardSigmoid', ['x'], ['y'], { alpha: { type: 'float', value: alpha }, beta: { type: 'float', value: 0.5 } })], {}, ['N', 16, 2, 2]);
    // y = 0.25x + 0.5 reaches 0 at x = −2 and 1 at x = 2.
    const probes = [-2, 2, -1.9999999, 1.9999999, 0, 1, -5, 5];
    const n = 16 * 4;
    const x = float32([1, 16, 2, 2], Array.from({ length: n }, (_, i) => probes[i % probes.length]));
    const { attribution } = await compiledRun(g, rules, x, float32([1, 16, 2, 2], Array.from({ length: n }, () => 1)));
    const xs = x.data as Float32Array;
    Array.from(attribution.data as Float32Array).forEach((v, i) => {
      const y = Math.fround(Math.fround(alpha * xs[i]) + 0.5);
      expect(v, `x = ${xs[i]}`).toBe(y > 0 && y < 1 ? alpha : 0);
    });
  });
});
