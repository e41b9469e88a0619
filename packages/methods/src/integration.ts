import { UsageError } from '@blameboard/core';

export const INTEGRATION_RULES = ['gauss-legendre', 'riemann-left', 'riemann-right', 'riemann-middle', 'riemann-trapezoid'] as const;
export type IntegrationRule = (typeof INTEGRATION_RULES)[number];

export interface Quadrature {
  /** Points on [0, 1] where the gradient is taken. */
  alphas: number[];
  /** Their weights. */
  weights: number[];
}

/**
 * The α_k and w_k of Integrated Gradients exactly as Captum builds them: Gauss–Legendre is
 * numpy's leggauss mapped from [−1, 1] to [0, 1]; the Riemann rules use n equal steps of 1/n
 * (the trapezoid halves its end weights, so its weights sum to 1 − 1/n, Captum's convention).
 */
export function quadrature(rule: IntegrationRule, n: number): Quadrature {
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`integration needs a positive integer number of steps, got ${n}`);
  switch (rule) {
    case 'gauss-legendre': {
      const { nodes, weights } = gaussLegendre(n);
      return { alphas: nodes.map((x) => 0.5 * (x + 1)), weights: weights.map((w) => 0.5 * w) };
    }
    case 'riemann-left':
      return { alphas: linspace(0, 1 - 1 / n, n), weights: Array(n).fill(1 / n) };
    case 'riemann-right':
      return { alphas: linspace(1 / n, 1, n), weights: Array(n).fill(1 / n) };
    case 'riemann-middle':
      return { alphas: linspace(1 / (2 * n), 1 - 1 / (2 * n), n), weights: Array(n).fill(1 / n) };
    case 'riemann-trapezoid': {
      if (n < 2) throw new UsageError(`riemann-trapezoid needs at least 2 steps, got ${n}`);
      const weights = Array(n).fill(1 / n);
      weights[0] /= 2;
      weights[n - 1] /= 2;
      return { alphas: linspace(0, 1, n), weights };
    }
  }
}

function linspace(start: number, end: number, n: number): number[] {
  if (n === 1) return [start];
  return Array.from({ length: n }, (_, k) => start + ((end - start) * k) / (n - 1));
}

/**
 * Nodes (ascending) and weights of n-point Gauss–Legendre quadrature on [−1, 1]: Newton's method
 * on P_n from the Chebyshev-like initial guesses, as numpy's leggauss does, to machine precision.
 */
export function gaussLegendre(n: number): { nodes: number[]; weights: number[] } {
  const nodes = new Array<number>(n);
  const weights = new Array<number>(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let derivative = 0;
    for (let iter = 0; iter < 100; iter++) {
      // P_n(x) and P_n'(x) by the three-term recurrence.
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      const pn = n === 1 ? x : p1;
      const pPrev = n === 1 ? 1 : p0;
      derivative = (n * (x * pn - pPrev)) / (x * x - 1);
      const step = pn / derivative;
      x -= step;
      if (Math.abs(step) < 1e-16) break;
    }
    const w = 2 / ((1 - x * x) * derivative * derivative);
    nodes[i] = -x;
    nodes[n - 1 - i] = x;
    weights[i] = w;
    weights[n - 1 - i] = w;
  }
  return { nodes, weights };
}
