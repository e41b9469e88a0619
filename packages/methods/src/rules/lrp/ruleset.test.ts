import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, Rng, type Tensor } from '@blameboard/core';
import { randomTensor } from '@blameboard/testing/graphs';
import { irFromRef, randomConv, randomDense, runLrp } from '@blameboard/testing/lrp-nets';
import { referenceLrp, type RefLayer, type RefRule } from '@blameboard/testing/lrp-reference';
import { COMPOSITE_MAPS, type LayerRule, type RuleChoice } from './composites.js';
import { biasOutputName, lrpRuleSet, type BiasMode } from './ruleset.js';
import type { MaxPoolMode } from './maxpool.js';

afterAll(() => disposeSessions());

const rng = new Rng(20240);
const mlp: RefLayer[] = [randomDense(rng, 6, 10), { kind: 'relu' }, randomDense(rng, 10, 8), { kind: 'relu' }, randomDense(rng, 8, 3)];
const cnn: RefLayer[] = [
  randomConv(rng, 3, 2, 3, { pads: [1, 1, 1, 1] }),
  { kind: 'relu' },
  { kind: 'maxpool', k: 2, stride: 2 },
  randomConv(rng, 4, 3, 2),
  { kind: 'relu' },
  { kind: 'flatten' },
  randomDense(rng, 16, 3),
];
const cnnStrided: RefLayer[] = [
  randomConv(rng, 2, 1, 3, { stride: [2, 2], pads: [1, 0, 0, 1] }),
  { kind: 'relu' },
  { kind: 'avgpool', k: 2, stride: 1 },
  { kind: 'flatten' },
  randomDense(rng, 2 * 2 * 2, 6),
  { kind: 'relu' },
  randomDense(rng, 6, 2),
];

interface Net {
  name: string;
  layers: RefLayer[];
  shape: number[];
  linear: number;
  channels: number;
}
const nets: Net[] = [
  { name: 'MLP (Gemm, MatMul+Add)', layers: mlp, shape: [6], linear: 3, channels: 6 },
  { name: 'CNN with max pooling', layers: cnn, shape: [2, 6, 6], linear: 3, channels: 2 },
  { name: 'strided CNN with average pooling', layers: cnnStrided, shape: [1, 7, 7], linear: 3, channels: 1 },
];

function toRef(choice: RuleChoice, channels: number): RefRule {
  switch (choice.rule) {
    case 'epsilon':
      return { rule: 'epsilon', epsilon: choice.epsilon! };
    case 'lrp-0':
      return { rule: 'epsilon', epsilon: 0 };
    case 'gamma':
      return { rule: 'gamma', gamma: choice.gamma! };
    case 'alpha-beta':
      return { rule: 'alpha-beta', alpha: choice.alpha!, beta: choice.beta! };
    case 'z-plus':
      return { rule: 'z-plus' };
    case 'z-box': {
      const expand = (v: number | readonly number[]) => (typeof v === 'number' ? v : v.length === channels ? [...v] : [...v]);
      return { rule: 'z-box', low: expand(choice.low!), high: expand(choice.high!) };
    }
    case 'flat':
      return { rule: 'flat' };
    case 'w-square':
      return { rule: 'w-square' };
  }
}

interface Case {
  name: string;
  rules: (first: boolean, channels: number) => RuleChoice;
  bias: BiasMode;
  maxpool?: MaxPoolMode;
  /** Explain |x| and tell the rule set the inputs are ≥ 0 (the first layer skips its x⁻ passes). */
  nonNegative?: boolean;
}

const cases: Case[] = [
  { name: 'epsilon', rules: () => ({ rule: 'epsilon', epsilon: 0.01 }), bias: 'absorb' },
  { name: 'epsilon, bias explicit', rules: () => ({ rule: 'epsilon', epsilon: 0.01 }), bias: 'explicit' },
  { name: 'epsilon, bias zero', rules: () => ({ rule: 'epsilon', epsilon: 0.01 }), bias: 'zero' },
  { name: 'gamma', rules: () => ({ rule: 'gamma', gamma: 0.25 }), bias: 'absorb' },
  { name: 'gamma 2, bias explicit', rules: () => ({ rule: 'gamma', gamma: 2 }), bias: 'explicit', maxpool: 'proportional' },
  { name: 'gamma, bias zero', rules: () => ({ rule: 'gamma', gamma: 0.5 }), bias: 'zero' },
  { name: 'alpha2-beta1', rules: () => ({ rule: 'alpha-beta', alpha: 2, beta: 1 }), bias: 'absorb' },
  { name: 'alpha3-beta2, bias explicit', rules: () => ({ rule: 'alpha-beta', alpha: 3, beta: 2 }), bias: 'explicit' },
  { name: 'z-plus', rules: () => ({ rule: 'z-plus' }), bias: 'absorb', maxpool: 'proportional' },
  {
    name: 'z-box (per channel) then epsilon',
    rules: (first, c) =>
      first
        ? { rule: 'z-box', low: Array.from({ length: c }, (_, i) => -2 - 0.5 * i), high: Array.from({ length: c }, (_, i) => 2 + 0.25 * i) }
        : { rule: 'epsilon', epsilon: 1e-3 },
    bias: 'absorb',
  },
  { name: 'z-box (scalar) then gamma', rules: (first) => (first ? { rule: 'z-box', low: -3, high: 3 } : { rule: 'gamma', gamma: 0.1 }), bias: 'absorb' },
  { name: 'flat then w-square', rules: (first) => (first ? { rule: 'flat' } : { rule: 'w-square' }), bias: 'absorb' },
  { name: 'w-square, bias explicit', rules: () => ({ rule: 'w-square' }), bias: 'explicit' },
  { name: 'gamma on inputs ≥ 0', rules: () => ({ rule: 'gamma', gamma: 0.25 }), bias: 'explicit', nonNegative: true },
  { name: 'alpha2-beta1 on inputs ≥ 0', rules: () => ({ rule: 'alpha-beta', alpha: 2, beta: 1 }), bias: 'explicit', nonNegative: true },
];

const maxAbs = (v: ArrayLike<number>): number => Array.from(v).reduce((m, a) => Math.max(m, Math.abs(a)), 0);

describe('compiled LRP rules equal the JS reference (SPEC §3.1 formulas, float64)', () => {
  for (const net of nets) {
    const graph = irFromRef(net.layers, net.shape);
    const n = 3;
    const signed = randomTensor([n, ...net.shape], 99, 1.5);
    const positive = float32(signed.shape, Array.from(signed.data as Float32Array, Math.abs));
    const per = signed.data.length / n;
    const sample = (x: Tensor, s: number) => Array.from((x.data as Float32Array).subarray(s * per, (s + 1) * per));
    // Each sample's predicted class: a class whose logit is negative can leave z⁺ rules nothing
    // to distribute (all-zero relevance), which would compare zeros. The forward pass does not
    // depend on the rules, so any rule reads the logits.
    const predicted = (x: Tensor) =>
      Array.from({ length: n }, (_, s) => {
        const { output } = referenceLrp(net.layers, net.shape, sample(x, s), 0, { rules: Array(net.linear).fill({ rule: 'epsilon', epsilon: 1e-6 }), stabilizer: 1e-6, bias: 'absorb', maxpool: 'winner-take-all' });
        return output.indexOf(Math.max(...output));
      });
    const signedTargets = predicted(signed);
    const positiveTargets = predicted(positive);
    for (const c of cases) {
      const [x, targets] = c.nonNegative ? [positive, positiveTargets] : [signed, signedTargets];
      it(`${net.name}: ${c.name}`, async () => {
        const choices = Array.from({ length: net.linear }, (_, i) => c.rules(i === 0, net.channels));
        const layerRules: LayerRule[] = choices.map((choice, layer) => ({ layer, ...choice }));
        const ruleset = lrpRuleSet({
          composite: COMPOSITE_MAPS.epsilon,
          params: { epsilon: 1e-6, gamma: 0.25, alpha: 2, beta: 1, low: 0, high: 1 },
          layerRules,
          stabilizer: 1e-6,
          bias: c.bias,
          maxpool: c.maxpool ?? 'winner-take-all',
          gates: 'constant',
          inputNonNegative: c.nonNegative ?? false,
        });
        const run = await runLrp(graph, ruleset, x, targets);
        expect(ruleset.linearLayers.map((l) => l.index)).toEqual(Array.from({ length: net.linear }, (_, i) => i));
        for (let s = 0; s < n; s++) {
          const xs = sample(x, s);
          const ref = referenceLrp(net.layers, net.shape, xs, targets[s], {
            rules: choices.map((ch) => toRef(ch, net.channels)),
            stabilizer: 1e-6,
            bias: c.bias,
            maxpool: c.maxpool ?? 'winner-take-all',
          });
          const got = (run.attribution.data as Float32Array).subarray(s * per, (s + 1) * per);
          const scale = maxAbs(ref.relevance);
          expect(scale).toBeGreaterThan(1e-3); // not comparing zeros
          const tol = 1e-4 * scale + 1e-6;
          ref.relevance.forEach((r, i) => expect(Math.abs(got[i] - r), `sample ${s} feature ${i}: ${got[i]} vs ${r}`).toBeLessThanOrEqual(tol));
          if (c.bias === 'explicit') {
            ruleset.linearLayers.forEach((layer) => {
              const t: Tensor | undefined = run.extra[biasOutputName(layer.index)];
              const expected = ref.biasRelevance[layer.index];
              const value = t ? (t.data as Float32Array)[s] : 0;
              expect(Math.abs(value - expected), `bias of layer ${layer.index}`).toBeLessThanOrEqual(tol);
            });
          }
        }
      });
    }
  }
});

describe('the flat rule ignores the input', () => {
  it('gives the same relevance shares for two inputs with the same logit', async () => {
    const graph = irFromRef(mlp, [6]);
    const ruleset = lrpRuleSet({
      composite: COMPOSITE_MAPS.epsilon,
      params: { epsilon: 1e-6, gamma: 0.25, alpha: 2, beta: 1, low: 0, high: 1 },
      layerRules: [0, 1, 2].map((layer) => ({ layer, rule: 'flat' as const })),
      stabilizer: 1e-6,
      bias: 'absorb',
      maxpool: 'winner-take-all',
      gates: 'constant',
    });
    const x = float32([2, 6], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, -1, 2, -3, 4, -5, 6]);
    const run = await runLrp(graph, ruleset, x, [0, 0]);
    const a = run.attribution.data as Float32Array;
    const logits = run.logits.data as Float32Array;
    // All-ones weights spread f_t evenly: every input gets f_t / 6.
    for (let s = 0; s < 2; s++) for (let i = 0; i < 6; i++) expect(a[s * 6 + i]).toBeCloseTo(logits[s * 3] / 6, 5);
  });
});
