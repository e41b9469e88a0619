import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gaussLegendre, INTEGRATION_RULES, quadrature } from './integration.js';

const vectors = JSON.parse(readFileSync(new URL('../fixtures/reference/vectors.json', import.meta.url), 'utf8')) as {
  integrationRules: Record<string, { alphas: number[]; weights: number[] }>;
};

describe('quadrature', () => {
  for (const rule of INTEGRATION_RULES) {
    it(`reproduces Captum's 3-step ${rule} table`, () => {
      const expected = vectors.integrationRules[rule];
      const q = quadrature(rule, 3);
      q.alphas.forEach((a, i) => expect(a).toBeCloseTo(expected.alphas[i], 6));
      q.weights.forEach((w, i) => expect(w).toBeCloseTo(expected.weights[i], 6));
    });
  }

  it('Gauss–Legendre integrates polynomials of degree 2n−1 exactly', () => {
    for (const n of [1, 2, 5, 32, 64]) {
      const { nodes, weights } = gaussLegendre(n);
      const degree = 2 * n - 1;
      // ∫₋₁¹ x^d dx = 2/(d+1) for even d, 0 for odd.
      for (const d of [0, 1, degree - 1, degree]) {
        const sum = nodes.reduce((s, x, i) => s + weights[i] * x ** d, 0);
        expect(sum).toBeCloseTo(d % 2 === 0 ? 2 / (d + 1) : 0, 10);
      }
      expect(nodes).toEqual([...nodes].sort((a, b) => a - b));
    }
  });

  it('refuses a one-step trapezoid', () => {
    expect(() => quadrature('riemann-trapezoid', 1)).toThrow(/at least 2 steps/);
  });
});
