import { afterAll, describe, expect, it } from 'vitest';
import { UnsupportedOperatorError } from '../errors.js';
import type { IrGraph, IrNode } from '../ir/types.js';
import { inferShapes } from '../ir/shape-inference.js';
import { writeOnnx } from '../onnx/write.js';
import { OnnxSession, disposeSessions } from '../runtime/session.js';
import { float32, type Tensor } from '../tensor.js';
import { compileExplanation } from './compile.js';
import { COMPILED_MIN_OPSET, upgradeOpset } from '../ir/upgrade-opset.js';
import type { BackwardRule, RuleSet } from './types.js';

afterAll(() => disposeSessions());

function node(opType: string, inputs: string[], outputs: string[], attributes: IrNode['attributes'] = {}): IrNode {
  return { name: `${opType}_${outputs[0]}`, opType, domain: '', inputs, outputs, attributes };
}

function graphOf(nodes: IrNode[], init: Record<string, Tensor>, inWidth: number, opsetVersion = 13): IrGraph {
  const g: IrGraph = {
    name: 'test',
    irVersion: 7,
    opsetVersion,
    producerName: 'test',
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', inWidth] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [] }],
    initializers: new Map(Object.entries(init)),
    nodes,
    values: new Map(),
  };
  inferShapes(g);
  return g;
}

// Test rules written independently of packages/methods: each passes a hand-derived adjoint.
const pass: BackwardRule = ({ node, upstream }) => node.inputs.map((_, i) => (i === 0 ? upstream[0] : null));
const rules: Record<string, BackwardRule> = {
  Identity: pass,
  Add: ({ upstream }) => [upstream[0], upstream[0]],
  Mul: ({ node, b, upstream }) => [b.op('Mul', [upstream[0], node.inputs[1]])[0], null],
  Unsqueeze: ({ node, b, upstream }) => [b.op('Reshape', [upstream[0], b.op('Shape', [node.inputs[0]])[0]])[0], null],
  Squeeze: ({ node, b, upstream }) => [b.op('Reshape', [upstream[0], b.op('Shape', [node.inputs[0]])[0]])[0], null],
  Relu: ({ node, b, upstream }) => [b.op('Where', [b.op('Greater', [node.inputs[0], b.scalar(0)])[0], upstream[0], b.scalar(0)])[0]],
};
const ruleSet: RuleSet = { ruleFor: (n) => rules[n.opType] };

async function run(graph: IrGraph, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await OnnxSession.create(writeOnnx(graph));
  try {
    return await session.run(feeds);
  } finally {
    await session.dispose();
  }
}

describe('compileExplanation', () => {
  it('sums the signal of a value used several times', async () => {
    // y = Identity(x) + x·c: ∂(seed·y)/∂x = seed + seed·c.
    const c = float32([2], [3, -5]);
    const g = graphOf([node('Identity', ['x'], ['i']), node('Mul', ['x', 'c'], ['m']), node('Add', ['i', 'm'], ['y'])], { c }, 2);
    const compiled = compileExplanation(g, ruleSet, { start: 'seed-input' });
    expect(compiled.inputNames).toEqual({ input: 'x', seed: 'seed' });
    expect(compiled.outputNames[0]).toBe('attribution');
    const out = await run(compiled.graph, { x: float32([2, 2], [1, 2, 3, 4]), seed: float32([2, 2], [1, 0.5, -1, 2]) });
    expect(Array.from(out.attribution.data as Float32Array)).toEqual([1 * 4, 0.5 * -4, -1 * 4, 2 * -4]);
    expect(Array.from(out[compiled.logits].data as Float32Array)).toEqual([1 + 3, 2 - 10, 3 + 9, 4 - 20]);
  });

  it('multiplies the seed by the logits for relevance-style starts', async () => {
    const g = graphOf([node('Relu', ['x'], ['y'])], {}, 3);
    const compiled = compileExplanation(g, ruleSet, { start: 'seed-times-output' });
    const out = await run(compiled.graph, { x: float32([1, 3], [2, -1, 5]), seed: float32([1, 3], [1, 1, 0]) });
    expect(Array.from(out.attribution.data as Float32Array)).toEqual([2, 0, 0]);
  });

  it('runs a renamed second forward pass on the baseline', async () => {
    const seen: string[] = [];
    const spy: RuleSet = {
      ruleFor: (n) => (ctx) => {
        seen.push(`${ctx.baselineValue!(n.inputs[0])}→${ctx.baselineValue!(n.outputs[0])}`);
        return rules[n.opType](ctx);
      },
    };
    const g = graphOf([node('Relu', ['x'], ['h']), node('Identity', ['h'], ['y'])], {}, 2);
    const compiled = compileExplanation(g, spy, { start: 'seed-input', withBaseline: true });
    expect(compiled.inputNames.baseline).toBe('baseline');
    expect(seen).toEqual(['h__baseline→y__baseline', 'baseline→h__baseline']);
    const out = await run(compiled.graph, {
      x: float32([1, 2], [1, -1]),
      seed: float32([1, 2], [1, 1]),
      baseline: float32([1, 2], [-3, 4]),
    });
    expect(Array.from(out[compiled.baselineLogits!].data as Float32Array)).toEqual([0, 4]);
    expect(Array.from(out[compiled.logits].data as Float32Array)).toEqual([1, 0]);
  });

  it('returns the signal at an inner value with attributionOf', async () => {
    const c = float32([2], [3, 4]);
    const g = graphOf([node('Mul', ['x', 'c'], ['h']), node('Mul', ['h', 'c'], ['y'])], { c }, 2);
    const compiled = compileExplanation(g, ruleSet, { start: 'seed-input', attributionOf: 'h' });
    const out = await run(compiled.graph, { x: float32([1, 2], [1, 1]), seed: float32([1, 2], [1, 1]) });
    expect(Array.from(out.attribution.data as Float32Array)).toEqual([3, 4]);
    expect(compiled.graph.outputs[0].shape).toEqual(['N', 2]);
  });

  it('exposes values rules register as extra outputs', async () => {
    const tap: RuleSet = {
      ruleFor: (n) => (ctx) => {
        const flows = rules[n.opType](ctx);
        ctx.b.output(flows[0]!, 'relu_signal', ['N', 2]);
        return flows;
      },
    };
    const g = graphOf([node('Relu', ['x'], ['y'])], {}, 2);
    const compiled = compileExplanation(g, tap, { start: 'seed-input' });
    const name = compiled.extraOutputs.relu_signal;
    expect(compiled.outputNames).toEqual(['attribution', name, 'y']);
    const out = await run(compiled.graph, { x: float32([1, 2], [1, -1]), seed: float32([1, 2], [3, 3]) });
    expect(Array.from(out[name].data as Float32Array)).toEqual([3, 0]);
  });

  it('needs no rule for shape computations on x (Shape → Reshape)', async () => {
    const g = graphOf([node('Relu', ['x'], ['r']), node('Shape', ['x'], ['s']), node('Reshape', ['r', 's'], ['y'])], {}, 2);
    const reshape: RuleSet = {
      ruleFor: (n) => (n.opType === 'Reshape' ? ({ upstream }) => [upstream[0], null] : rules[n.opType]),
    };
    const compiled = compileExplanation(g, reshape, { start: 'seed-input' });
    const out = await run(compiled.graph, { x: float32([1, 2], [3, -3]), seed: float32([1, 2], [2, 2]) });
    expect(Array.from(out.attribution.data as Float32Array)).toEqual([2, 0]);
  });

  it('lets a rule send its signal past the nodes it treats as one unit with it', async () => {
    // y = x·σ(x) handled as one unit at the Mul: the signal goes to x; the Sigmoid emits nothing.
    const g = graphOf([node('Sigmoid', ['x'], ['s']), node('Mul', ['x', 's'], ['y'])], {}, 2);
    let sigmoidRuns = 0;
    const unit: RuleSet = {
      ruleFor: (n) =>
        n.opType === 'Mul'
          ? (ctx) => {
              ctx.send('x', ctx.b.op('Mul', [ctx.upstream[0], ctx.b.scalar(10)])[0]);
              return [null, null];
            }
          : () => {
              sigmoidRuns++;
              return [null];
            },
    };
    const compiled = compileExplanation(g, unit, { start: 'seed-input' });
    expect(sigmoidRuns).toBe(0);
    const out = await run(compiled.graph, { x: float32([1, 2], [1, -1]), seed: float32([1, 2], [3, 4]) });
    expect(Array.from(out.attribution.data as Float32Array)).toEqual([30, 40]);
  });

  it('lists every operator without a rule in one error', () => {
    const g = graphOf([node('Sigmoid', ['x'], ['s']), node('Tanh', ['s'], ['y'])], {}, 2);
    expect(() => compileExplanation(g, ruleSet, { start: 'seed-input' })).toThrow(UnsupportedOperatorError);
    expect(() => compileExplanation(g, ruleSet, { start: 'seed-input' })).toThrow(/Sigmoid \(node 'Sigmoid_s'\), Tanh \(node 'Tanh_y'\)/);
  });

  it('lifts reductions and equal Splits to opset 18 without changing their meaning', async () => {
    const axes = { type: 'ints' as const, value: [1] };
    const g: IrGraph = {
      ...graphOf([node('Identity', ['x'], ['y'])], {}, 4),
      nodes: [
        node('Split', ['x'], ['a', 'b'], { axis: { type: 'int', value: 1 } }),
        node('ReduceMax', ['a'], ['m'], { axes, keepdims: { type: 'int', value: 1 } }),
        node('ReduceMean', ['b'], ['e'], { axes, keepdims: { type: 'int', value: 1 } }),
        node('Add', ['m', 'e'], ['y']),
      ],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 1] }],
      values: new Map(),
    };
    const lifted = upgradeOpset(g);
    expect(lifted.opsetVersion).toBe(COMPILED_MIN_OPSET);
    const x = float32([2, 4], [1, 5, 2, 4, -3, 0, 8, 6]);
    const before = await run(g, { x });
    const after = await run(lifted, { x });
    expect(Array.from(after.y.data as Float32Array)).toEqual(Array.from(before.y.data as Float32Array));
    expect(Array.from(after.y.data as Float32Array)).toEqual([5 + 3, 0 + 7]);
  });

  it('drops nodes and initializers no output depends on', async () => {
    // The rule emits a detour it then abandons; the compiled graph must not run it.
    const detour: RuleSet = {
      ruleFor: (n) => (ctx) => {
        ctx.b.op('Neg', [ctx.b.op('Mul', [ctx.upstream[0], ctx.b.constant(float32([1], [7]), 'unused_seven')])[0]]);
        return rules[n.opType](ctx);
      },
    };
    const g = graphOf([node('Relu', ['x'], ['y'])], {}, 2);
    const compiled = compileExplanation(g, detour, { start: 'seed-input' });
    expect(compiled.graph.nodes.map((n) => n.opType)).not.toContain('Neg');
    expect([...compiled.graph.initializers.keys()].some((k) => k.startsWith('unused_seven'))).toBe(false);
    const out = await run(compiled.graph, { x: float32([1, 2], [1, -1]), seed: float32([1, 2], [3, 3]) });
    expect(Array.from(out.attribution.data as Float32Array)).toEqual([3, 0]);
  });

  it('lifts an opset-11 graph to the compiled opset without changing its meaning', async () => {
    const axes = { type: 'ints' as const, value: [1] };
    const g = graphOf([node('Unsqueeze', ['x'], ['u'], { axes }), node('Squeeze', ['u'], ['y'], { axes })], {}, 2, 11);
    const compiled = compileExplanation(g, ruleSet, { start: 'seed-input' });
    expect(compiled.graph.opsetVersion).toBeGreaterThanOrEqual(17);
    expect(g.nodes[0].attributes.axes).toBeDefined(); // the caller's graph is untouched
    const out = await run(compiled.graph, { x: float32([1, 2], [5, 6]), seed: float32([1, 2], [7, 8]) });
    expect(Array.from(out.attribution.data as Float32Array)).toEqual([7, 8]);
    expect(Array.from(out.y.data as Float32Array)).toEqual([5, 6]);
  });
});
