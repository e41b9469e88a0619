import { afterAll, describe, expect, it } from 'vitest';
import { compileExplanation, disposeSessions, type IrNode, type Tensor } from '@blameboard/core';
import { adjointCheck, compiledRun, finiteDifference, graphOf, node, randomTensor } from '@blameboard/testing/graphs';
import { gradientRules } from './index.js';

afterAll(() => disposeSessions());

const rules = gradientRules();

async function expectAdjoint(nodes: IrNode[], init: Record<string, Tensor>, shape: (number | string)[]) {
  const { forward, backward } = await adjointCheck(graphOf(nodes, init, shape), rules, 2, 3);
  expect(Math.abs(backward - forward)).toBeLessThan(1e-5 * Math.abs(forward) + 1e-4);
}

/** Checks the compiled gradient against central differences; `eps` and `digits` fit the function's curvature. */
async function expectFiniteDifference(nodes: IrNode[], init: Record<string, Tensor>, shape: number[], eps: number, digits: number, x?: Tensor) {
  const g = graphOf(nodes, init, shape);
  const input = x ?? randomTensor(shape, 4);
  const y = await compiledRun(g, rules, input, randomTensor(g.outputs[0].shape as number[], 6));
  const fd = await finiteDifference(g, input, randomTensor(g.outputs[0].shape as number[], 6), eps);
  Array.from(y.attribution.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(fd[i], digits));
}

describe('broadcasting arithmetic gradients', () => {
  it('Add and Sub with a per-channel constant', async () => {
    await expectAdjoint([node('Add', ['x', 'c'], ['a']), node('Sub', ['k', 'a'], ['y'])], { c: randomTensor([3, 1, 1], 1), k: randomTensor([1], 2) }, ['N', 3, 2, 2]);
  });
  it('Mul and Div by constants broadcast along both sides', async () => {
    await expectAdjoint([node('Mul', ['x', 'c'], ['m']), node('Div', ['m', 'd'], ['y'])], { c: randomTensor([4], 1), d: randomTensor([2, 1], 2, 1) }, ['N', 1, 4]);
  });
  it('Mul of two x-dependent values broadcast against each other (quadratic: exact differences)', async () => {
    // a = x[…, :3]-like via Gemm [N,3]; b = Gemm [N,1]; y = a ⊙ b broadcasts b over a's columns.
    await expectFiniteDifference(
      [
        node('Gemm', ['x', 'wa'], ['a']),
        node('Gemm', ['x', 'wb'], ['b']),
        node('Mul', ['a', 'b'], ['y']),
      ],
      { wa: randomTensor([4, 3], 1), wb: randomTensor([4, 1], 2) },
      [2, 4],
      1e-2,
      3,
    );
  });
  it('a per-channel gate x ⊙ mean(x) over 16 channels (Resize and a ones-kernel Conv; quadratic: exact differences)', async () => {
    const nodes = [node('GlobalAveragePool', ['x'], ['m']), node('Mul', ['x', 'm'], ['y'])];
    const compiled = compileExplanation(graphOf(nodes, {}, ['N', 16, 3, 2]), rules, { start: 'seed-input' }).graph;
    expect(compiled.nodes.map((n) => n.opType)).toEqual(expect.arrayContaining(['Resize', 'Conv']));
    expect(compiled.nodes.map((n) => n.opType)).not.toContain('ReduceSum');
    await expectFiniteDifference(nodes, {}, [2, 16, 3, 2], 1e-2, 3);
  });
  it('Div of two x-dependent values, the divisor broadcast', async () => {
    // y = x / (1 + (x·w)²): the divisor [N,1] stays ≥ 1 and is shared by each row.
    await expectFiniteDifference(
      [
        node('Gemm', ['x', 'w'], ['l']),
        node('Mul', ['l', 'l'], ['q']),
        node('Add', ['q', 'one'], ['z']),
        node('Div', ['x', 'z'], ['y']),
      ],
      { w: randomTensor([3, 1], 8), one: { dtype: 'float32', shape: [], data: Float32Array.of(1) } },
      [2, 3],
      1e-3,
      2,
    );
  });
  it('Sum and Neg', async () => {
    await expectAdjoint([node('Neg', ['x'], ['n']), node('Sum', ['x', 'n', 'c', 'x'], ['y'])], { c: randomTensor([5], 1) }, ['N', 5]);
  });
});

describe('activation gradients', () => {
  const ops: [string, IrNode['attributes']][] = [
    ['Relu', {}],
    ['LeakyRelu', { alpha: { type: 'float', value: 0.2 } }],
    ['Sigmoid', {}],
    ['Tanh', {}],
    ['Softplus', {}],
    ['Elu', { alpha: { type: 'float', value: 0.7 } }],
  ];
  const analytic: Record<string, (z: number) => number> = {
    Relu: (z) => (z > 0 ? 1 : 0),
    LeakyRelu: (z) => (z > 0 ? 1 : 0.2),
    Sigmoid: (z) => Math.exp(-z) / (1 + Math.exp(-z)) ** 2,
    Tanh: (z) => 1 - Math.tanh(z) ** 2,
    Softplus: (z) => 1 / (1 + Math.exp(-z)),
    Elu: (z) => (z > 0 ? 1 : 0.7 * Math.exp(z)),
  };
  for (const [op, attributes] of ops) {
    it(`${op}: upstream ⊙ g′(z) against the analytic derivative`, async () => {
      const g = graphOf([node(op, ['x'], ['y'], attributes)], {}, ['N', 8]);
      const x = randomTensor([2, 8], 12, 2);
      const s = randomTensor([2, 8], 13);
      const { attribution } = await compiledRun(g, rules, x, s);
      Array.from(attribution.data as Float32Array).forEach((v, i) => {
        const expected = (s.data[i] as number) * analytic[op](x.data[i] as number);
        expect(Math.abs(v - expected)).toBeLessThan(1e-6 * (1 + Math.abs(expected)));
      });
    });
  }
  it('Clip passes the signal inside [min, max] only', async () => {
    const g = graphOf([node('Clip', ['x', 'lo', 'hi'], ['y'])], { lo: { dtype: 'float32', shape: [], data: Float32Array.of(-0.5) }, hi: { dtype: 'float32', shape: [], data: Float32Array.of(1) } }, ['N', 4]);
    const x = { dtype: 'float32' as const, shape: [1, 4], data: Float32Array.of(-1, -0.2, 0.7, 3) };
    const { attribution } = await compiledRun(g, rules, x, { dtype: 'float32', shape: [1, 4], data: Float32Array.of(5, 6, 7, 8) });
    expect(Array.from(attribution.data as Float32Array)).toEqual([0, 6, 7, 0]);
  });
});
