import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, type IrGraph, type Tensor } from '@blameboard/core';
import { graphOf, int, ints, node, randomTensor } from '@blameboard/testing/graphs';
import { runLrp } from '@blameboard/testing/lrp-nets';
import { COMPOSITE_MAPS } from './composites.js';
import type { MaxPoolMode } from './maxpool.js';
import { lrpRuleSet, type GateMode } from './ruleset.js';

afterAll(() => disposeSessions());

const rules = (maxpool: MaxPoolMode = 'winner-take-all', epsilon = 1e-9, gates: GateMode = 'constant') =>
  lrpRuleSet({
    composite: COMPOSITE_MAPS.epsilon,
    params: { epsilon, gamma: 0.25, alpha: 2, beta: 1, low: 0, high: 1 },
    layerRules: [],
    stabilizer: 1e-9,
    bias: 'absorb',
    maxpool,
    gates,
  });
const arr = (t: Tensor) => t.data as Float32Array;

describe('LRP on non-linear layers', () => {
  it('residual Add splits relevance in proportion to its operands (Norm), by hand', async () => {
    // x[2] → h1 = x·W1, h2 = x·W2 → s = h1 + h2 → y = s·w.
    const W1 = [[1, 2], [3, -1]];
    const W2 = [[0.5, -2], [1, 4]];
    const w = [2, -1];
    const g = graphOf(
      [node('MatMul', ['x', 'w1'], ['h1']), node('MatMul', ['x', 'w2'], ['h2']), node('Add', ['h1', 'h2'], ['s']), node('MatMul', ['s', 'wo'], ['y'])],
      { w1: float32([2, 2], W1.flat()), w2: float32([2, 2], W2.flat()), wo: float32([2, 1], w) },
      ['N', 2],
    );
    const x = [0.7, 1.3];
    const run = await runLrp(g, rules(), float32([1, 2], x), [0]);
    const h = (W: number[][]) => [0, 1].map((k) => x[0] * W[0][k] + x[1] * W[1][k]);
    const [h1, h2] = [h(W1), h(W2)];
    const s = [0, 1].map((k) => h1[k] + h2[k]);
    const Rs = s.map((sk, k) => sk * w[k]); // ε rule at the output layer with R = y
    const expected = [0, 1].map((i) =>
      [0, 1].reduce((acc, k) => acc + (x[i] * W1[i][k] * (h1[k] * Rs[k]) / s[k]) / h1[k] + (x[i] * W2[i][k] * (h2[k] * Rs[k]) / s[k]) / h2[k], 0),
    );
    expected.forEach((e, i) => expect(arr(run.attribution)[i]).toBeCloseTo(e, 4));
  });

  function cnnWith(tail: 'gap' | 'gmp' | 'bn'): IrGraph {
    const nodes = [node('Conv', ['x', 'w'], ['c'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }), node('Relu', ['c'], ['r'])];
    const init: Record<string, Tensor> = { w: randomTensor([3, 2, 3, 3], 5, 0.5), wd: randomTensor([3, 4], 6) };
    if (tail === 'bn') {
      // Not after a linear layer: cannot be folded, passes relevance unchanged.
      nodes.push(node('BatchNormalization', ['r', 's', 'b', 'm', 'v'], ['n']), node('GlobalAveragePool', ['n'], ['p']));
      Object.assign(init, { s: float32([3], [2, 0.5, 3]), b: float32([3], [0, 0, 0]), m: float32([3], [0, 0, 0]), v: float32([3], [1, 4, 0.25]) });
    } else {
      nodes.push(node(tail === 'gap' ? 'GlobalAveragePool' : 'GlobalMaxPool', ['r'], ['p']));
    }
    nodes.push(node('Flatten', ['p'], ['f'], { axis: int(1) }), node('MatMul', ['f', 'wd'], ['y']));
    return graphOf(nodes, init, ['N', 2, 5, 5]);
  }

  // An unfoldable BatchNorm passes relevance with either gates mode: Zennit 0.5.1's composites give
  // BatchNorm the Pass rule (its gradient, ×γ/√(var+eps) = 2, 0.25, 6 here, would not conserve).
  const cases = [['gap', 'winner-take-all', 'constant'], ['bn', 'winner-take-all', 'constant'], ['bn', 'winner-take-all', 'gradient'], ['gmp', 'winner-take-all', 'constant'], ['gmp', 'proportional', 'constant']] as const;
  for (const [tail, maxpool, gates] of cases) {
    it(`conserves f_t(x) through ${tail === 'gap' ? 'GlobalAveragePool (Norm)' : tail === 'bn' ? `an unfoldable BatchNorm (pass, gates ${gates})` : `GlobalMaxPool (${maxpool})`}`, async () => {
      const g = cnnWith(tail);
      const x = randomTensor([3, 2, 5, 5], 7);
      const targets = [0, 1, 2];
      const run = await runLrp(g, rules(maxpool, 1e-9, gates), x, targets);
      for (let n = 0; n < 3; n++) {
        const ft = arr(run.logits)[n * 4 + targets[n]];
        const sum = arr(run.attribution).subarray(n * 50, (n + 1) * 50).reduce((a, v) => a + v, 0);
        expect(Math.abs(ft)).toBeGreaterThan(1e-2);
        expect(Math.abs(sum - ft)).toBeLessThan(1e-4 * Math.abs(ft));
      }
    });
  }

  it('proportional GlobalMaxPool spreads over the positive activations, winner-take-all to the maximum only', async () => {
    const g = graphOf([node('GlobalMaxPool', ['x'], ['p']), node('Flatten', ['p'], ['y'], { axis: int(1) })], {}, ['N', 1, 2, 2]);
    const x = float32([1, 1, 2, 2], [1, -2, 3, 0]);
    const wta = await runLrp(g, rules('winner-take-all'), x, [0]);
    const prop = await runLrp(g, rules('proportional'), x, [0]);
    expect(Array.from(arr(wta.attribution))).toEqual([0, 0, 3, 0]);
    [0.75, 0, 2.25, 0].forEach((e, i) => expect(arr(prop.attribution)[i]).toBeCloseTo(e, 5));
  });
});
