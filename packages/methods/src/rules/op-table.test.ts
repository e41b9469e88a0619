import { describe, expect, it } from 'vitest';
import { SUPPORTED_OPS, type IrGraph, type IrNode } from '@blameboard/core';
import { deepLiftRules } from './deeplift.js';
import { GRADIENT_RULES, gradientRules } from './gradient/index.js';
import { compositeRules } from './lrp/test-utils/composite-rules.js';

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
    lrp: compositeRules('epsilon-plus'),
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
