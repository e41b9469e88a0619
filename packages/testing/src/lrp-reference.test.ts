import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { referenceLrp, type RefLayer, type RefOptions } from './lrp-reference.js';

// The reference must itself reproduce Captum before it may judge the compiled graphs.
const vectors = JSON.parse(readFileSync(new URL('../../methods/fixtures/reference/vectors.json', import.meta.url), 'utf8')) as {
  cases: { model: string; method: string; params: Record<string, unknown>; input: unknown; expected: unknown; atol: number }[];
};
const lrpCases = vectors.cases.filter((c) => c.method === 'lrp');

const simple = (w00: number): RefLayer[] => [
  { kind: 'dense', w: [[w00, 2, 2], [2, 2, 2], [2, 2, 2]] },
  { kind: 'relu' },
  { kind: 'dense', w: [[3], [3], [3]] },
];
const ones3x3 = [[1, 1, 1], [1, 1, 1], [1, 1, 1]];
const oneConv: RefLayer[] = [
  { kind: 'conv', w: [[ones3x3], [ones3x3]], b: [-50, -75] },
  { kind: 'relu' },
  { kind: 'flatten' },
  { kind: 'dense', w: Array.from({ length: 8 }, (_, i) => new Array(4).fill(i < 5 ? 1 : -1)), b: [0, 0, 0, 0] },
  { kind: 'relu' },
];
const base: Omit<RefOptions, 'rules'> = { stabilizer: 1e-6, bias: 'absorb', maxpool: 'winner-take-all' };

describe('the JS LRP reference reproduces the Captum vectors', () => {
  it('has the four LRP cases', () => expect(lrpCases).toHaveLength(4));
  for (const c of lrpCases) {
    it(`${c.model} ${JSON.stringify(c.params)}`, () => {
      const inputs = c.input as number[][] | number[][][][];
      const expected = (c.expected as unknown[]).map((e) => (e as unknown[]).flat(3) as number[]);
      let layers: RefLayer[];
      let rules: RefOptions['rules'];
      let shape: number[];
      if (c.model === 'one-conv.onnx') {
        layers = oneConv;
        shape = [1, 4, 4];
        rules = [{ rule: 'epsilon', epsilon: 1e-9 }, { rule: 'epsilon', epsilon: 1e-9 }];
      } else {
        layers = simple(c.model === 'simple-lrp.onnx' ? 2 : -2);
        shape = [3];
        if (c.params.composite === 'epsilon') rules = [{ rule: 'epsilon', epsilon: 1e-9 }, { rule: 'epsilon', epsilon: 1e-9 }];
        else if (c.params.composite === 'z-plus') rules = [{ rule: 'z-plus' }, { rule: 'z-plus' }];
        else rules = [{ rule: 'gamma', gamma: 1 }, { rule: 'gamma', gamma: 0.25 }];
      }
      inputs.forEach((x, n) => {
        const flat = (x as unknown[]).flat(3) as number[];
        const out = referenceLrp(layers, shape, flat, 0, { ...base, rules });
        out.relevance.forEach((r, i) => expect(Math.abs(r - expected[n][i])).toBeLessThanOrEqual(c.atol));
      });
    });
  }
});
