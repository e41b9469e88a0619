import { afterAll, describe, expect, it } from 'vitest';
import { compileExplanation, disposeSessions, float32, writeOnnx, type IrGraph, type IrNode, type Tensor } from '@blameboard/core';
import { flt, graphOf, int, int64, node, randomTensor, runOnce } from '@blameboard/testing/graphs';
import { runLrp } from '@blameboard/testing/lrp-nets';
import { COMPOSITE_MAPS, type LrpComposite } from './composites.js';
import { lrpRuleSet, type GateMode } from './ruleset.js';

afterAll(() => disposeSessions());

const rules = (gates: GateMode, composite: LrpComposite = 'epsilon', bias: 'absorb' | 'explicit' = 'absorb') =>
  lrpRuleSet({
    composite: COMPOSITE_MAPS[composite],
    params: { epsilon: 1e-9, gamma: 0.25, alpha: 2, beta: 1, low: 0, high: 1 },
    layerRules: [],
    stabilizer: 1e-9,
    bias,
    maxpool: 'winner-take-all',
    gates,
  });
const arr = (t: Tensor) => Array.from(t.data as Float32Array);
const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
const scalar = (v: number): Tensor => ({ dtype: 'float32', shape: [], data: Float32Array.of(v) });

/** conv → ReLU → squeeze-excitation (GAP → conv → ReLU → conv → sigmoid, × the activation) → dense. */
function seNet(gate = 'Sigmoid'): IrGraph {
  return graphOf(
    [
      node('Conv', ['x', 'w1', 'b1'], ['c']),
      node('Relu', ['c'], ['r']),
      node('GlobalAveragePool', ['r'], ['p']),
      node('Conv', ['p', 'wa', 'ba'], ['fa']),
      node('Relu', ['fa'], ['ra']),
      node('Conv', ['ra', 'wb', 'bb'], ['fb']),
      node(gate, ['fb'], ['g']),
      node('Mul', ['r', 'g'], ['se']),
      node('Flatten', ['se'], ['f']),
      node('Gemm', ['f', 'wd', 'bd'], ['y']),
    ],
    {
      w1: randomTensor([4, 2, 3, 3], 1, 0.5), b1: randomTensor([4], 2, 0.1),
      wa: randomTensor([2, 4, 1, 1], 3), ba: randomTensor([2], 4, 0.1),
      wb: randomTensor([4, 2, 1, 1], 5), bb: randomTensor([4], 6, 0.1),
      wd: randomTensor([4 * 4 * 4, 3], 7, 0.3), bd: randomTensor([3], 8, 0.1),
    },
    ['N', 2, 6, 6],
  );
}

describe('LRP through squeeze-excitation gates', () => {
  it("gates: 'constant' conserves f_t(x): input relevance + bias relevance = f_t(x)", async () => {
    const g = seNet();
    const x = randomTensor([3, 2, 6, 6], 9);
    const run = await runLrp(g, rules('constant', 'epsilon', 'explicit'), x, [0, 1, 2]);
    for (let n = 0; n < 3; n++) {
      const ft = arr(run.logits)[n * 3 + n];
      const input = sum(arr(run.attribution).slice(n * 72, (n + 1) * 72));
      const biases = sum(Object.values(run.extra).map((t) => arr(t)[n]));
      expect(Math.abs(ft)).toBeGreaterThan(1e-2);
      expect(Math.abs(input + biases - ft)).toBeLessThan(1e-4 * Math.abs(ft));
    }
  });

  it("gates: 'constant' equals LRP of the same net with the gate frozen to its value at x", async () => {
    const g = seNet();
    const x = randomTensor([1, 2, 6, 6], 10);
    // The gate's value at x, then a net where it is a constant.
    const probe = compileExplanation({ ...g, outputs: [{ name: 'g', dtype: 'float32', shape: ['N', 4, 1, 1] }] }, rules('constant'), { start: 'seed-input' });
    const gateValue = (await runOnce(writeOnnx({ ...g, outputs: [{ name: 'g', dtype: 'float32', shape: ['N', 4, 1, 1] }] }), { x }))[probe.logits];
    const frozen = graphOf(
      g.nodes.filter((n) => !['p', 'fa', 'ra', 'fb', 'g'].includes(n.outputs[0])),
      { ...Object.fromEntries(g.initializers), g: gateValue },
      ['N', 2, 6, 6],
    );
    const a = await runLrp(g, rules('constant', 'z-plus'), x, [1]);
    const b = await runLrp(frozen, rules('constant', 'z-plus'), x, [1]);
    arr(a.attribution).forEach((v, i) => expect(v).toBeCloseTo(arr(b.attribution)[i], 5));
  });

  it("gates: 'gradient' is the product rule on relevance (Zennit): the gate's share flows through the gate's own layers", async () => {
    // y = W2·(h ⊙ σ(Wg x)) with h = W1 x, ε rule everywhere (ε ≈ 0, no biases): by hand in float64.
    const W1 = [[1, -2], [0.5, 1.5]];
    const Wg = [[0.3, -0.7], [1.1, 0.2]];
    const W2 = [[1.2], [-0.4]];
    const g = graphOf(
      [
        node('MatMul', ['x', 'w1'], ['h']),
        node('MatMul', ['x', 'wg'], ['zg']),
        node('Sigmoid', ['zg'], ['s']),
        node('Mul', ['h', 's'], ['m']),
        node('MatMul', ['m', 'w2'], ['y']),
      ],
      { w1: float32([2, 2], W1.flat()), wg: float32([2, 2], Wg.flat()), w2: float32([2, 1], W2.flat()) },
      ['N', 2],
    );
    const x = [0.8, -0.6];
    const lin = (W: number[][], v: number[]) => W[0].map((_, k) => v.reduce((acc, vi, i) => acc + vi * W[i][k], 0));
    const h = lin(W1, x);
    const zg = lin(Wg, x);
    const s = zg.map((z) => 1 / (1 + Math.exp(-z)));
    const m = h.map((hk, k) => hk * s[k]);
    const y = lin(W2, m)[0];
    const Rm = m.map((mk, k) => (mk * W2[k][0] * y) / y); // ε rule on the output layer, R = y
    const Rh = Rm.map((r, k) => s[k] * (r / m[k]) * m[k] * 0 + s[k] * r); // ∂m/∂h = s: R_h = s ⊙ R_m
    const Rg = Rm.map((r, k) => h[k] * r); // ∂m/∂s = h: R_s = h ⊙ R_m, passed through σ
    const back = (W: number[][], z: number[], R: number[]) => x.map((xi, i) => z.reduce((acc, zk, k) => acc + (xi * W[i][k] * R[k]) / zk, 0));
    const expected = back(W1, h, Rh).map((v, i) => v + back(Wg, zg, Rg)[i]);
    const run = await runLrp(g, rules('gradient'), float32([1, 2], x), [0]);
    arr(run.attribution).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
    // …and it does not conserve, which is why it is not the default.
    expect(Math.abs(sum(expected) - y)).toBeGreaterThan(1e-3);
  });
});

/** A dense → activation → dense net whose activation is given as nodes reading 'a' and writing 'act'. */
function withActivation(nodes: IrNode[], init: Record<string, Tensor> = {}): IrGraph {
  return graphOf(
    [node('Gemm', ['x', 'w1', 'b1'], ['a']), ...nodes, node('Gemm', ['act', 'w2', 'b2'], ['y'])],
    { w1: randomTensor([5, 6], 11), b1: randomTensor([6], 12, 0.2), w2: randomTensor([6, 3], 13), b2: randomTensor([3], 14, 0.1), ...init },
    ['N', 5],
    20,
  );
}

describe('elementwise nonlinearities spelt over several nodes are one activation', () => {
  const hardSwish = withActivation([node('HardSwish', ['a'], ['act'])]);
  const patterns: [string, IrGraph][] = [
    ['x·HardSigmoid(x) (torch.onnx.export, opset < 14)', withActivation([node('HardSigmoid', ['a'], ['hs'], { alpha: flt(1 / 6) }), node('Mul', ['a', 'hs'], ['act'])])],
    [
      'x·Clip(x + 3, 0, 6)/6 (tf2onnx)',
      withActivation(
        [node('Add', ['a', 'three'], ['a3']), node('Clip', ['a3', 'zero', 'six'], ['r6']), node('Mul', ['a', 'r6'], ['m']), node('Div', ['m', 'six'], ['act'])],
        { three: scalar(3), zero: scalar(0), six: scalar(6) },
      ),
    ],
    [
      'HardSigmoid(x)·x (paddle2onnx, the operands swapped)',
      withActivation([node('HardSigmoid', ['a'], ['hs'], { alpha: flt(1 / 6), beta: flt(0.5) }), node('Mul', ['hs', 'a'], ['act'])]),
    ],
  ];
  const x = randomTensor([2, 5], 15, 3);

  for (const [name, g] of patterns) {
    it(`LRP (both gate modes) treats ${name} as the HardSwish op`, async () => {
      for (const gates of ['constant', 'gradient'] as const) {
        const want = arr((await runLrp(hardSwish, rules(gates), x, [0, 2])).attribution);
        const got = arr((await runLrp(g, rules(gates), x, [0, 2])).attribution);
        got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
      }
    });
  }

  it('passes the relevance of φ(v) to v unchanged (SiLU as x·σ(x))', async () => {
    const g = withActivation([node('Sigmoid', ['a'], ['s']), node('Mul', ['a', 's'], ['act'])]);
    const at = async (value: string) => {
      const c = compileExplanation(g, rules('constant'), { start: 'seed-times-output', attributionOf: value });
      const out = await runOnce(writeOnnx(c.graph), { [c.inputNames.input]: x, [c.inputNames.seed]: float32([2, 3], [1, 0, 0, 0, 0, 1]) });
      return arr(out[c.outputNames[0]]);
    };
    const before = await at('a');
    const after = await at('act');
    expect(before.some((v) => v !== 0)).toBe(true);
    before.forEach((v, i) => expect(v).toBeCloseTo(after[i], 6));
  });

  it('stays a gate when the inner value is used elsewhere (not private to the unit)', async () => {
    // σ(a) also feeds the output: x·σ(x) is then a product of two activations, not one unit.
    const g = graphOf(
      [
        node('Gemm', ['x', 'w1'], ['a']),
        node('Sigmoid', ['a'], ['s']),
        node('Mul', ['a', 's'], ['m']),
        node('Add', ['m', 's'], ['act']),
        node('Gemm', ['act', 'w2'], ['y']),
      ],
      { w1: randomTensor([5, 6], 11), w2: randomTensor([6, 3], 13) },
      ['N', 5],
    );
    const constant = arr((await runLrp(g, rules('constant'), x, [0, 2])).attribution);
    const gradient = arr((await runLrp(g, rules('gradient'), x, [0, 2])).attribution);
    expect(constant.some((v, i) => Math.abs(v - gradient[i]) > 1e-3)).toBe(true);
  });
});

describe('LRP on a Gemm with transA (the layer reads xᵀ)', () => {
  it('equals LRP of the same layer fed the transposed input', async () => {
    const w = randomTensor([4, 3], 21);
    const b = randomTensor([3], 22, 0.2);
    const viaTransA = graphOf([node('Transpose', ['x'], ['t'], { perm: { type: 'ints', value: [1, 0] } }), node('Gemm', ['t', 'w', 'b'], ['y'], { transA: int(1) })], { w, b }, ['N', 4]);
    const plain = graphOf([node('Identity', ['x'], ['t']), node('Gemm', ['t', 'w', 'b'], ['y'])], { w, b }, ['N', 4]);
    const x = randomTensor([2, 4], 23);
    const a = arr((await runLrp(viaTransA, rules('constant', 'alpha-beta'), x, [0, 2])).attribution);
    const c = arr((await runLrp(plain, rules('constant', 'alpha-beta'), x, [0, 2])).attribution);
    expect(c.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    a.forEach((v, i) => expect(v).toBeCloseTo(c[i], 5));
  });
});

describe('LRP on ReduceMean (a global average pool as tf2onnx writes it)', () => {
  it('is the Norm rule, like GlobalAveragePool', async () => {
    const head = (pool: IrNode[]) =>
      graphOf(
        [node('Conv', ['x', 'w1'], ['c']), node('Relu', ['c'], ['r']), ...pool, node('Flatten', ['p'], ['f']), node('Gemm', ['f', 'wd'], ['y'])],
        { w1: randomTensor([3, 2, 3, 3], 31), wd: randomTensor([3, 2], 32), axes: int64([2, 3]) },
        ['N', 2, 5, 5],
        18,
      );
    const gap = head([node('GlobalAveragePool', ['r'], ['p'])]);
    const mean = head([node('ReduceMean', ['r', 'axes'], ['p'], { keepdims: int(1) })]);
    const x = randomTensor([2, 2, 5, 5], 33);
    const a = arr((await runLrp(gap, rules('constant', 'z-plus'), x, [0, 1])).attribution);
    const b = arr((await runLrp(mean, rules('constant', 'z-plus'), x, [0, 1])).attribution);
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 6));
  });
});
