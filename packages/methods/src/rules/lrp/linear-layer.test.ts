import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, type IrGraph, type Tensor } from '@blameboard/core';
import { compiledRun, forwardOf, graphOf, int, ints, node, randomTensor } from '@blameboard/testing/graphs';
import { referenceLrp, type RefLayer, type RefRule } from '@blameboard/testing/lrp-reference';
import { runLrp } from '@blameboard/testing/lrp-nets';
import { gradientRules } from '../gradient/index.js';
import type { RuleChoice } from './composites.js';
import { lrpRuleSet } from './ruleset.js';

afterAll(() => disposeSessions());

const arr = (t: Tensor) => t.data as Float32Array;
const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxAbsDiff = (a: Float32Array, b: ArrayLike<number>) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** ConvTranspose (stride 2, pads, output_padding) → grouped Conv → Gemm (transB, alpha, beta): the layer forms the reference nets lack. */
function net(withBias: boolean): IrGraph {
  const init: Record<string, Tensor> = {
    wt: randomTensor([2, 2, 3, 3], 11, 0.5), // ConvTranspose [C_in, C_out/group, k, k]
    wc: randomTensor([4, 1, 3, 3], 12, 0.5), // grouped Conv: 2 groups, 2 → 4 channels
    wg: randomTensor([3, 4 * 4 * 4], 13, 0.3),
  };
  if (withBias) Object.assign(init, { bt: randomTensor([2], 14, 0.2), bc: randomTensor([4], 15, 0.2), bg: randomTensor([3], 16, 0.2) });
  return graphOf(
    [
      node('ConvTranspose', withBias ? ['x', 'wt', 'bt'] : ['x', 'wt'], ['t'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), output_padding: ints([1, 1]) }),
      node('Relu', ['t'], ['tr']),
      node('Conv', withBias ? ['tr', 'wc', 'bc'] : ['tr', 'wc'], ['c'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), group: int(2) }),
      node('Relu', ['c'], ['cr']),
      node('Flatten', ['cr'], ['f'], { axis: int(1) }),
      node('Gemm', withBias ? ['f', 'wg', 'bg'] : ['f', 'wg'], ['y'], { transB: int(1), alpha: { type: 'float', value: 0.5 }, beta: { type: 'float', value: 2 } }),
    ],
    init,
    ['N', 2, 4, 4],
  );
}

const ruleset = (choice: RuleChoice, stabilizer = 1e-6) =>
  lrpRuleSet({
    composite: () => choice,
    params: { epsilon: 1e-6, gamma: 0.25, alpha: 2, beta: 1, low: -3, high: 3 },
    layerRules: [],
    stabilizer,
    bias: 'absorb',
    maxpool: 'winner-take-all',
    gates: 'constant',
  });

describe('LRP on ConvTranspose, grouped Conv and Gemm with alpha/beta', () => {
  const x = randomTensor([2, 2, 4, 4], 17);
  const targets = [0, 2];

  it('bias-free LRP-0 equals gradient × input', async () => {
    const g = net(false);
    const lrp0 = await runLrp(g, ruleset({ rule: 'lrp-0' }), x, targets);
    const seed = float32([2, 3], [1, 0, 0, 0, 0, 1]);
    const { attribution: grad } = await compiledRun(g, gradientRules(), x, seed);
    const gxi = arr(grad).map((v, i) => v * arr(x)[i]);
    expect(maxAbs(gxi)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(arr(lrp0.attribution), gxi)).toBeLessThan(1e-4 * maxAbs(gxi));
  });

  it('γ = 0 equals ε = stabilizer, and γ changes the result', async () => {
    const g = net(true);
    const gamma0 = await runLrp(g, ruleset({ rule: 'gamma', gamma: 0 }, 1e-3), x, targets);
    const eps = await runLrp(g, ruleset({ rule: 'epsilon', epsilon: 1e-3 }, 1e-3), x, targets);
    const gamma1 = await runLrp(g, ruleset({ rule: 'gamma', gamma: 1 }, 1e-3), x, targets);
    const scale = maxAbs(arr(eps.attribution));
    expect(maxAbsDiff(arr(gamma0.attribution), arr(eps.attribution))).toBeLessThan(1e-4 * scale);
    expect(maxAbsDiff(arr(gamma1.attribution), arr(eps.attribution))).toBeGreaterThan(1e-2 * scale);
  });

  // (αβ does not conserve where a unit has no negative contributions: z^β = 0 passes nothing.)
  for (const choice of [{ rule: 'z-plus' }, { rule: 'w-square' }, { rule: 'flat' }] as RuleChoice[]) {
    it(`${choice.rule} conserves relevance on the bias-free net`, async () => {
      const g = net(false);
      const run = await runLrp(g, ruleset(choice), x, targets);
      for (let n = 0; n < 2; n++) {
        const ft = arr(run.logits)[n * 3 + targets[n]];
        const sum = arr(run.attribution).subarray(n * 32, (n + 1) * 32).reduce((a, v) => a + v, 0);
        expect(Math.abs(sum - ft)).toBeLessThan(1e-4 * Math.abs(ft) + 1e-6);
      }
    });
  }
});

/**
 * Each linear layer of `net` as an explicit matrix: the layer (bias-free) run on the basis vectors.
 * The JS reference then applies SPEC §3.1's formulas to those matrices — independent of how the
 * compiled rules transpose a ConvTranspose or a grouped Conv.
 */
async function asDenseLayers(withBias: boolean): Promise<RefLayer[]> {
  const g = net(withBias);
  const linear = g.nodes.filter((n) => ['ConvTranspose', 'Conv', 'Gemm'].includes(n.opType));
  const layers: RefLayer[] = [];
  for (const [i, n] of linear.entries()) {
    const inShape = g.values.get(n.inputs[0])!.shape.slice(1) as number[];
    const inSize = inShape.reduce((a, b) => a * b, 1);
    const single = graphOf([{ ...n, inputs: ['x', n.inputs[1]], outputs: ['y'] }], { [n.inputs[1]]: g.initializers.get(n.inputs[1])! }, ['N', ...inShape]);
    const eye = float32([inSize, ...inShape]);
    for (let k = 0; k < inSize; k++) arr(eye)[k * inSize + k] = 1;
    const cols = await forwardOf(single, eye);
    const outSize = cols.data.length / inSize;
    const w = Array.from({ length: inSize }, (_, k) => Array.from(arr(cols).subarray(k * outSize, (k + 1) * outSize)));
    let b: number[] | undefined;
    if (withBias) {
      const bias = arr(g.initializers.get(n.inputs[2])!);
      const per = outSize / bias.length; // conv: per channel; Gemm: one per unit, times beta
      b = Array.from({ length: outSize }, (_, k) => bias[Math.floor(k / per)] * (n.opType === 'Gemm' ? 2 : 1));
    }
    // Random weights are never exactly 0: a 0 entry is a position the kernel never reaches.
    layers.push({ kind: 'dense', w, b, connected: w.map((row) => row.map((v) => v !== 0)) });
    if (i < linear.length - 1) layers.push({ kind: 'relu' });
  }
  return layers;
}

describe('compiled rules on ConvTranspose / grouped Conv / Gemm equal the JS reference on their matrices', () => {
  const x = randomTensor([2, 2, 4, 4], 18);
  const targets = [1, 2];
  const cases: { choice: RuleChoice; ref: RefRule; bias: 'absorb' | 'explicit' }[] = [
    { choice: { rule: 'epsilon', epsilon: 0.01 }, ref: { rule: 'epsilon', epsilon: 0.01 }, bias: 'explicit' },
    { choice: { rule: 'gamma', gamma: 0.25 }, ref: { rule: 'gamma', gamma: 0.25 }, bias: 'explicit' },
    { choice: { rule: 'alpha-beta', alpha: 2, beta: 1 }, ref: { rule: 'alpha-beta', alpha: 2, beta: 1 }, bias: 'explicit' },
    { choice: { rule: 'z-plus' }, ref: { rule: 'z-plus' }, bias: 'absorb' },
    { choice: { rule: 'z-box', low: -3, high: 3 }, ref: { rule: 'z-box', low: -3, high: 3 }, bias: 'absorb' },
    { choice: { rule: 'flat' }, ref: { rule: 'flat' }, bias: 'absorb' },
    { choice: { rule: 'w-square' }, ref: { rule: 'w-square' }, bias: 'explicit' },
  ];
  for (const c of cases) {
    it(`${c.choice.rule} (bias ${c.bias})`, async () => {
      const layers = await asDenseLayers(true);
      const rs = lrpRuleSet({
        composite: () => c.choice,
        params: { epsilon: 1e-6, gamma: 0.25, alpha: 2, beta: 1, low: -3, high: 3 },
        layerRules: [],
        stabilizer: 1e-6,
        bias: c.bias,
        maxpool: 'winner-take-all',
        gates: 'constant',
      });
      const run = await runLrp(net(true), rs, x, targets);
      for (let n = 0; n < 2; n++) {
        const xs = Array.from(arr(x).subarray(n * 32, (n + 1) * 32));
        const ref = referenceLrp(layers, [32], xs, targets[n], { rules: [c.ref, c.ref, c.ref], stabilizer: 1e-6, bias: c.bias, maxpool: 'winner-take-all' });
        const got = arr(run.attribution).subarray(n * 32, (n + 1) * 32);
        const scale = maxAbs(Float32Array.from(ref.relevance));
        expect(scale).toBeGreaterThan(1e-4); // not comparing zeros
        expect(maxAbsDiff(got, ref.relevance)).toBeLessThan(1e-4 * scale + 1e-6);
        if (c.bias === 'explicit') {
          ref.biasRelevance.forEach((e, layer) => {
            const t = run.extra[`bias_relevance:${layer}`];
            expect(Math.abs((t ? arr(t)[n] : 0) - e)).toBeLessThan(1e-4 * scale + 1e-6);
          });
        }
      }
    });
  }
});
