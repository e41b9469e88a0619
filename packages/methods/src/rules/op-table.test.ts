import { describe, expect, it } from 'vitest';
import { SUPPORTED_OPS, type IrGraph, type IrNode } from '@blameboard/core';
import { deepLiftRules } from './deeplift.js';
import { GRADIENT_RULES, gradientRules } from './gradient/index.js';
import { COMPOSITE_MAPS } from './lrp/composites.js';
import { lrpRuleSet } from './lrp/ruleset.js';

/** The loader's op table (SUPPORTED_OPS) against the rule tables: every operator the IR admits has a rule in every method. */
describe('the IR operator table and the rule tables', () => {
  const ops = SUPPORTED_OPS.filter((op) => op !== 'Constant');
  const graph: IrGraph = {
    name: 'g', irVersion: 8, opsetVersion: 18, producerName: '', inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 4] }],
    outputs: [], initializers: new Map(), nodes: [], values: new Map(),
  };
  const nodeOf = (opType: string): IrNode => ({ name: opType.toLowerCase(), opType, domain: '', inputs: ['x'], outputs: ['y'], attributes: {} });
  const sets = {
    gradient: gradientRules(),
    deeplift: deepLiftRules(),
    lrp: lrpRuleSet({
      composite: COMPOSITE_MAPS['epsilon-plus'],
      params: { epsilon: 1e-6, gamma: 0.25, alpha: 2, beta: 1, low: 0, high: 1 },
      layerRules: [],
      stabilizer: 1e-6,
      bias: 'absorb',
      maxpool: 'winner-take-all',
      gates: 'constant',
    }),
  };

  it('has a gradient rule for every supported operator and none the IR refuses', () => {
    expect(ops.filter((op) => !GRADIENT_RULES[op])).toEqual([]);
  });

  for (const [method, rules] of Object.entries(sets)) {
    it(`gives ${method} a rule for every supported operator`, () => {
      const missing = ops.filter((op) => {
        const linear = ['Conv', 'ConvTranspose', 'Gemm', 'MatMul'].includes(op);
        try {
          return !rules.ruleFor(nodeOf(op), linear ? 0 : null, 1, graph);
        } catch {
          return true;
        }
      });
      // A softmax inside the network normalises across units: LRP has no rule for it (nor has
      // Zennit); the trailing one every classifier has is stripped when the model loads.
      expect(missing).toEqual(method === 'lrp' ? ['Softmax', 'LogSoftmax'] : []);
    });
  }
});
