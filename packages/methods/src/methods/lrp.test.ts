import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  disposeSessions,
  float32,
  foldBatchNorm,
  loadModel,
  readOnnx,
  resolveParams,
  Rng,
  UsageError,
  writeOnnx,
  type IrGraph,
  type LoadedModel,
  type Tensor,
} from '@blameboard/core';
import { inputGradients } from '../gradients.js';
import { explain as explainByRegistry } from '../registry.js';
import { graphOf, int, ints, node, randomTensor } from '@blameboard/testing/graphs';
import { irFromRef, randomConv, randomDense } from '@blameboard/testing/lrp-nets';
import { referenceLrp, type RefLayer } from '@blameboard/testing/lrp-reference';
import type { DataContext, ExplainResult } from '../types.js';
import { deepTaylor } from './deep-taylor.js';
import { lrp } from './lrp.js';

afterAll(() => disposeSessions());

const fixtures = fileURLToPath(new URL('../../fixtures/reference/', import.meta.url));
const vectors = JSON.parse(readFileSync(`${fixtures}vectors.json`, 'utf8')) as {
  cases: { model: string; method: string; params: Record<string, unknown>; input: unknown; target: number; expected: unknown; atol: number }[];
};

async function explain(
  method: typeof lrp,
  model: LoadedModel,
  inputs: Tensor,
  targets: number[],
  params: Record<string, unknown> = {},
  data?: DataContext,
): Promise<ExplainResult> {
  return method.explain({ model, inputs, targets: Int32Array.from(targets), params: resolveParams(method.id, method.params, params), data });
}

const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flat(Infinity) : [v]) as number[];
const arr = (t: Tensor): Float32Array => t.data as Float32Array;

function shapeOf(nested: unknown): number[] {
  const shape: number[] = [];
  let v = nested;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

async function modelOf(graph: IrGraph, id: string): Promise<LoadedModel> {
  return loadModel({ bytes: writeOnnx(graph), id });
}

/** Logits of the model at x (from the gradient graph, which returns them for free). */
async function logitsOf(model: LoadedModel, x: Tensor, targets: number[]): Promise<Float32Array> {
  return arr((await inputGradients(model, x, Int32Array.from(targets), 'test')).logits);
}

describe('lrp reproduces the Captum reference vectors (through the method registry)', () => {
  const cases = vectors.cases.filter((c) => c.method === 'lrp');
  it('has the four LRP cases', () => expect(cases).toHaveLength(4));
  for (const c of cases) {
    it(`${c.model} ${JSON.stringify(c.params)}`, async () => {
      const model = await loadModel(`${fixtures}${c.model}`);
      const x = float32(shapeOf(c.input), flat(c.input));
      const targets = new Array(x.shape[0]).fill(c.target);
      const { attributions } = await explainByRegistry({ model, inputs: x, targets: Int32Array.from(targets), method: c.method, params: c.params });
      expect(attributions.shape).toEqual(x.shape);
      const expected = flat(c.expected);
      expect(expected.some((v) => v !== 0)).toBe(true);
      expected.forEach((e, i) => expect(Math.abs(arr(attributions)[i] - e), `element ${i}`).toBeLessThanOrEqual(c.atol));
    });
  }
});

// Small nets stand in for the zoo (packages/models/zoo is trained separately); the zoo's models
// are added below when present.
const rng = new Rng(4242);
const mlpLayers: RefLayer[] = [randomDense(rng, 12, 16), { kind: 'relu' }, randomDense(rng, 16, 10), { kind: 'relu' }, randomDense(rng, 10, 4)];
const cnnLayers: RefLayer[] = [
  randomConv(rng, 4, 1, 3, { pads: [1, 1, 1, 1] }),
  { kind: 'relu' },
  { kind: 'maxpool', k: 2, stride: 2 },
  randomConv(rng, 6, 4, 3),
  { kind: 'relu' },
  { kind: 'avgpool', k: 2, stride: 1 },
  { kind: 'flatten' },
  randomDense(rng, 6, 5),
];
const stripBias = (layers: RefLayer[]): RefLayer[] => layers.map((l) => (l.kind === 'dense' || l.kind === 'conv' ? { ...l, b: undefined } : l));

interface TestNet {
  name: string;
  graph: IrGraph;
  inputShape: number[];
}

const zooDir = fileURLToPath(new URL('../../../models/zoo/', import.meta.url));
// The classifier/regression zoo and its twins (the tiny equivalent-a/b pair is not a classifier).
const zooNets: TestNet[] = (existsSync(zooDir) ? readdirSync(zooDir) : [])
  .filter((f) => f.endsWith('.onnx') && (f.startsWith('mnist-') || f.startsWith('synthetic-')))
  .map((f) => {
    const graph = readOnnx(readFileSync(`${zooDir}${f}`));
    return { name: `zoo ${f}`, graph, inputShape: graph.inputs[0].shape.slice(1) as number[] };
  });

const nets: TestNet[] = [
  { name: 'MLP', graph: irFromRef(mlpLayers, [12]), inputShape: [12] },
  { name: 'CNN', graph: irFromRef(cnnLayers, [1, 8, 8]), inputShape: [1, 8, 8] },
  ...zooNets,
];

/** An Add/Sum/Sub of two activations (a skip connection). */
function hasResidualJoin(graph: IrGraph): boolean {
  return graph.nodes.some((n) => ['Add', 'Sum', 'Sub'].includes(n.opType) && n.inputs.filter((i) => !graph.initializers.has(i)).length >= 2);
}

/** The same graph with every Conv/Gemm/MatMul bias (and bias Add) set to 0. */
function biasFree(graph: IrGraph): IrGraph {
  const g = foldBatchNorm(graph);
  const initializers = new Map(g.initializers);
  for (const n of g.nodes) {
    const biasInputs = ['Conv', 'Gemm', 'ConvTranspose'].includes(n.opType) ? n.inputs.slice(2) : n.opType === 'Add' ? n.inputs : [];
    for (const name of biasInputs) {
      const t = initializers.get(name);
      if (t && t.dtype === 'float32') initializers.set(name, float32(t.shape, new Float32Array(t.data.length)));
    }
  }
  return { ...g, initializers };
}

/** Inputs in [0, 1] like pixels. */
function inputsFor(net: TestNet, n: number, seed: number): Tensor {
  const x = float32([n, ...net.inputShape]);
  new Rng(seed).fillUniform(arr(x), 0, 1);
  return x;
}

/** Targets 0, 1, 2, … wrapped to the model's outputs (a regression model has one). */
const someTargets = (n: number, classes: number, shift = 0): number[] => Array.from({ length: n }, (_, i) => (i + shift) % classes);

/** Rows of `x` whose predicted logit is positive (at most `n`), with those targets. */
async function positivePredictions(model: LoadedModel, x: Tensor, n: number): Promise<{ x: Tensor; targets: number[] }> {
  const rows = x.shape[0];
  const logits = await logitsOf(model, x, new Array(rows).fill(0));
  const predicted = argmaxRows(logits, model.outputSize);
  const per = arr(x).length / rows;
  const keep = predicted.map((t, r) => (logits[r * model.outputSize + t] > 0 ? r : -1)).filter((r) => r >= 0).slice(0, n);
  const out = float32([keep.length, ...x.shape.slice(1)]);
  keep.forEach((r, i) => arr(out).set(arr(x).subarray(r * per, (r + 1) * per), i * per));
  return { x: out, targets: keep.map((r) => predicted[r]) };
}

function argmaxRows(logits: Float32Array, classes: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < logits.length / classes; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[r * classes + c] > logits[r * classes + best]) best = c;
    out.push(best);
  }
  return out;
}

const sumRow = (a: Float32Array, row: number, per: number): number => a.subarray(row * per, (row + 1) * per).reduce((s, v) => s + v, 0);
const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe('LRP identities', () => {
  for (const net of nets) {
    const n = 4;
    it(`${net.name}: bias-free LRP-0 equals gradient × input`, async () => {
      const model = await modelOf(biasFree(net.graph), `${net.name}-bias-free`);
      const x = inputsFor(net, n, 1);
      const targets = someTargets(n, model.outputSize);
      const { attributions } = await explain(lrp, model, x, targets, { composite: 'epsilon', epsilon: 0 });
      const { gradients } = await inputGradients(model, x, Int32Array.from(targets), 'test');
      const gxi = arr(gradients).map((g, i) => g * arr(x)[i]);
      expect(maxAbs(gxi)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(arr(attributions), gxi)).toBeLessThan(1e-4 * maxAbs(gxi) + 1e-6);
    });

    it(`${net.name}: LRP-ε conserves f_t(x) on the bias-free net`, async () => {
      const model = await modelOf(biasFree(net.graph), `${net.name}-bias-free`);
      const x = inputsFor(net, n, 2);
      const targets = someTargets(n, model.outputSize, 1);
      const { attributions } = await explain(lrp, model, x, targets, { composite: 'epsilon', epsilon: 1e-6 });
      const logits = await logitsOf(model, x, targets);
      const per = arr(x).length / n;
      for (let r = 0; r < n; r++) {
        const ft = logits[r * model.outputSize + targets[r]];
        expect(Math.abs(sumRow(arr(attributions), r, per) - ft)).toBeLessThan(1e-4 * Math.abs(ft) + 1e-5);
      }
    });

    it(`${net.name}: γ = 0 is the ε rule with ε = stabilizer`, async () => {
      const model = await modelOf(net.graph, net.name);
      const x = inputsFor(net, n, 3);
      const targets = someTargets(n, model.outputSize, 2);
      const a = await explain(lrp, model, x, targets, { composite: 'gamma', gamma: 0, stabilizer: 1e-4 });
      const b = await explain(lrp, model, x, targets, { composite: 'epsilon', epsilon: 1e-4, stabilizer: 1e-4 });
      expect(maxAbs(arr(b.attributions))).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(arr(a.attributions), arr(b.attributions))).toBeLessThan(1e-4 * maxAbs(arr(b.attributions)) + 1e-6);
    });

    // Only where every unit with z < 0 ends in a ReLU and so receives no relevance: a residual sum
    // hands relevance to negative pre-activations, which generalized γ treats by their negative
    // contributions and z⁺ by their positive ones — there the two are different rules in the limit.
    if (!hasResidualJoin(net.graph)) it(`${net.name}: γ → ∞ approaches z⁺ (positive target logits)`, async () => {
      const model = await modelOf(net.graph, net.name);
      const { x, targets } = await positivePredictions(model, inputsFor(net, 16, 4), n);
      expect(targets.length).toBeGreaterThan(0);
      const zPlus = arr((await explain(lrp, model, x, targets, { composite: 'z-plus' })).attributions);
      const gammaLarge = arr((await explain(lrp, model, x, targets, { composite: 'gamma', gamma: 1e6 })).attributions);
      const gammaSmall = arr((await explain(lrp, model, x, targets, { composite: 'gamma', gamma: 1 })).attributions);
      const scale = maxAbs(zPlus);
      expect(maxAbsDiff(gammaLarge, zPlus)).toBeLessThan(1e-3 * scale);
      expect(maxAbsDiff(gammaSmall, zPlus)).toBeGreaterThan(maxAbsDiff(gammaLarge, zPlus)); // it is a limit, not a coincidence
    });

    it(`${net.name}: bias explicit — input relevance + bias relevance = f_t(x)`, async () => {
      const model = await modelOf(net.graph, net.name);
      const x = inputsFor(net, n, 5);
      const targets = someTargets(n, model.outputSize, 3);
      const result = await explain(lrp, model, x, targets, { composite: 'epsilon', epsilon: 1e-7, bias: 'explicit' });
      const logits = await logitsOf(model, x, targets);
      const per = arr(x).length / n;
      expect(result.biasRelevance?.length).toBeGreaterThanOrEqual(3);
      for (let r = 0; r < n; r++) {
        const ft = logits[r * model.outputSize + targets[r]];
        const biasTotal = result.biasRelevance!.reduce((s, layer) => s + layer.perSample[r], 0);
        expect(Math.abs(biasTotal)).toBeGreaterThan(1e-3); // the biases do take a share
        expect(Math.abs(sumRow(arr(result.attributions), r, per) + biasTotal - ft)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ft)));
      }
    });
  }
});

describe('lrp composites and deep-taylor', () => {
  const net = nets[1];
  const x = inputsFor(net, 2, 6);

  it('epsilon-gamma-box puts z-box on the first conv, γ on the other conv, ε on the dense layer (JS reference)', async () => {
    const model = await modelOf(net.graph, net.name);
    const targets = [0, 3];
    const { attributions } = await explain(lrp, model, x, targets, {}, { range: [0, 1] });
    const per = arr(x).length / 2;
    for (let r = 0; r < 2; r++) {
      const ref = referenceLrp(cnnLayers, [1, 8, 8], Array.from(arr(x).subarray(r * per, (r + 1) * per)), targets[r], {
        rules: [{ rule: 'z-box', low: 0, high: 1 }, { rule: 'gamma', gamma: 0.25 }, { rule: 'epsilon', epsilon: 1e-6 }],
        stabilizer: 1e-6,
        bias: 'absorb',
        maxpool: 'winner-take-all',
      });
      const got = arr(attributions).subarray(r * per, (r + 1) * per);
      const scale = Math.max(...ref.relevance.map(Math.abs));
      ref.relevance.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThanOrEqual(1e-4 * scale + 1e-6));
    }
  });

  it('deep-taylor is z-box then z-plus, with bounds from the data range', async () => {
    const model = await modelOf(net.graph, net.name);
    const targets = [2, 4];
    const dt = await explain(deepTaylor, model, x, targets, {}, { range: [-0.5, 1.5] });
    const same = await explain(lrp, model, x, targets, {
      composite: 'z-plus',
      layerRules: [{ layer: 0, rule: 'z-box', low: -0.5, high: 1.5 }],
    });
    expect(maxAbs(arr(dt.attributions))).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(arr(dt.attributions), arr(same.attributions))).toBeLessThan(1e-6 * maxAbs(arr(same.attributions)) + 1e-9);
    const otherBounds = await explain(deepTaylor, model, x, targets, { low: 0, high: 1 }, { range: [-0.5, 1.5] });
    expect(maxAbsDiff(arr(otherBounds.attributions), arr(dt.attributions))).toBeGreaterThan(1e-6);
  });

  it('folds a BatchNorm after a conv before the rules apply (Zennit canonization)', async () => {
    const w = randomTensor([3, 1, 3, 3], 8, 0.5);
    const dense = randomTensor([3 * 4 * 4, 2], 9, 0.2);
    const bn = (name: string, values: number[]) => float32([3], values);
    const g = graphOf(
      [
        node('Conv', ['x', 'w'], ['c'], { kernel_shape: ints([3, 3]) }),
        node('BatchNormalization', ['c', 's', 'b', 'm', 'v'], ['n']),
        node('Relu', ['n'], ['r']),
        node('Flatten', ['r'], ['f'], { axis: int(1) }),
        node('MatMul', ['f', 'wd'], ['y']),
      ],
      { w, wd: dense, s: bn('s', [1.5, 0.5, 2]), b: bn('b', [0.1, -0.2, 0.3]), m: bn('m', [0.2, 0.1, -0.1]), v: bn('v', [0.5, 2, 1]) },
      ['N', 1, 6, 6],
    );
    const params = { composite: 'gamma', gamma: 0.5 };
    const withBn = await explain(lrp, await modelOf(g, 'bn'), inputsFor({ name: '', graph: g, inputShape: [1, 6, 6] }, 2, 10), [0, 1], params);
    const folded = await explain(lrp, await modelOf(foldBatchNorm(g), 'bn-folded'), inputsFor({ name: '', graph: g, inputShape: [1, 6, 6] }, 2, 10), [0, 1], params);
    expect(maxAbsDiff(arr(withBn.attributions), arr(folded.attributions))).toBeLessThan(1e-5 * maxAbs(arr(folded.attributions)));
  });
});

describe("batchNormMerge: zennit-0.5.1 (Zennit 0.5.1's canonizer)", () => {
  // Conv → BatchNorm (eps 0.2: a leftover factor 1/√1.2 = 0.91) → Relu → Flatten → MatMul.
  const eps = 0.2;
  const bn = { s: [1.5, -0.5, 2], b: [0.1, -0.2, 0.3], m: [0.2, 0.1, -0.1], v: [0.5, 2, 1] };
  const graphWith = (beta: number[], variance: number[]): IrGraph =>
    graphOf(
      [
        node('Conv', ['x', 'w', 'cb'], ['c'], { kernel_shape: ints([3, 3]) }),
        node('BatchNormalization', ['c', 's', 'b', 'm', 'v'], ['n'], { epsilon: { type: 'float', value: eps } }),
        node('Relu', ['n'], ['r']),
        node('Flatten', ['r'], ['f'], { axis: int(1) }),
        node('MatMul', ['f', 'wd'], ['y']),
      ],
      {
        w: randomTensor([3, 1, 3, 3], 18, 0.5),
        cb: float32([3], [0.05, -0.1, 0.2]),
        wd: randomTensor([3 * 4 * 4, 2], 19, 0.3),
        s: float32([3], bn.s),
        b: float32([3], beta),
        m: float32([3], bn.m),
        v: float32([3], variance),
      },
      ['N', 1, 6, 6],
    );
  const net = { name: '', graph: graphWith(bn.b, bn.v), inputShape: [1, 6, 6] };
  // What Zennit 0.5.1's canonized model computes, spelt with a plain BatchNorm: BN′(x) = BN(x)/√(1 + eps).
  const zennitFunction = graphWith(
    bn.b.map((b) => b / Math.sqrt(1 + eps)),
    bn.v.map((v) => (v + eps) * (1 + eps) - eps),
  );

  it("conserves the merged model's f_t: the leftover 1/√(1 + eps) scales the forward pass, relevance crosses it unchanged", async () => {
    const model = await modelOf(net.graph, 'bn-merge');
    const x = inputsFor(net, 3, 21);
    const targets = [0, 1, 0];
    const result = await explain(lrp, model, x, targets, { composite: 'epsilon', epsilon: 1e-7, bias: 'explicit', batchNormMerge: 'zennit-0.5.1' });
    const zennitLogits = await logitsOf(await modelOf(zennitFunction, 'bn-merge-zennit'), x, targets);
    const modelLogits = await logitsOf(model, x, targets);
    const per = arr(x).length / 3;
    for (let r = 0; r < 3; r++) {
      const ft = zennitLogits[r * 2 + targets[r]];
      const biasTotal = result.biasRelevance!.reduce((sum, layer) => sum + layer.perSample[r], 0);
      expect(Math.abs(ft - modelLogits[r * 2 + targets[r]])).toBeGreaterThan(1e-2 * Math.abs(ft)); // not the model's f_t
      expect(Math.abs(sumRow(arr(result.attributions), r, per) + biasTotal - ft)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ft)));
    }
  });

  it('exact (the default) keeps the model and gives other maps; an unknown choice lists both', async () => {
    const model = await modelOf(net.graph, 'bn-merge');
    const x = inputsFor(net, 2, 22);
    const params = { composite: 'epsilon-gamma-box', low: -1, high: 1, gates: 'gradient' };
    const byDefault = arr((await explain(lrp, model, x, [0, 1], params)).attributions);
    const exact = arr((await explain(lrp, model, x, [0, 1], { ...params, batchNormMerge: 'exact' })).attributions);
    const zennit = arr((await explain(lrp, model, x, [0, 1], { ...params, batchNormMerge: 'zennit-0.5.1' })).attributions);
    expect(maxAbsDiff(byDefault, exact)).toBe(0);
    expect(maxAbsDiff(zennit, exact)).toBeGreaterThan(1e-3 * maxAbs(exact));
    await expect(explain(lrp, model, x, [0, 1], { batchNormMerge: 'zennit' })).rejects.toThrow(/exact, zennit-0\.5\.1/);
  });
});

describe('lrp parameter errors list what is known', () => {
  const graph = irFromRef(stripBias(mlpLayers), [12]);
  const x = float32([1, 12], new Array(12).fill(0.5));

  it('unknown composite', async () => {
    const model = await modelOf(graph, 'errors');
    await expect(explain(lrp, model, x, [0], { composite: 'epsilon-gamma-flat' })).rejects.toThrow(UsageError);
    await expect(explain(lrp, model, x, [0], { composite: 'epsilon-gamma-flat' })).rejects.toThrow(/epsilon-gamma-box.*epsilon-alpha2-beta1-flat/);
  });

  it('unknown rule in layerRules', async () => {
    const model = await modelOf(graph, 'errors');
    await expect(explain(lrp, model, x, [0], { layerRules: [{ layer: 0, rule: 'zplus' }] })).rejects.toThrow(
      /unknown LRP rule "zplus"; known rules: epsilon, lrp-0, gamma, alpha-beta, z-plus, z-box, flat, w-square/,
    );
  });

  it('layer index past the last linear layer, unknown keys, bad alpha-beta', async () => {
    const model = await modelOf(graph, 'errors');
    await expect(explain(lrp, model, x, [0], { layerRules: [{ layer: 3, rule: 'gamma' }] })).rejects.toThrow(/linear layer 3.*has 3/);
    await expect(explain(lrp, model, x, [0], { layerRules: [{ layer: 0, rule: 'gamma', gama: 1 }] })).rejects.toThrow(/unknown key 'gama'/);
    await expect(explain(lrp, model, x, [0], { composite: 'alpha-beta', alpha: 2, beta: 2 })).rejects.toThrow(/alpha − beta = 1/);
    await expect(explain(lrp, model, x, [0], { bias: 'blame' })).rejects.toThrow(/absorb, zero, explicit/);
  });
});
