import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, type IrGraph, Rng, type Tensor } from '@blameboard/core';
import { getTf, initTfjs } from './backend.js';
import { tfForward } from './forward.js';
import { tfGradient } from './gradient.js';
import { finiteDifferences, forward64 } from '@blameboard/testing/finite-differences';
import { buildGraph, randn, REFERENCE_DIR, referenceModels, sampleShape } from '@blameboard/testing/spec-graphs';
import { opCases } from '@blameboard/testing/op-cases';

const rng = new Rng(11);

/**
 * Step of the central differences, taken in float64 on onnxruntime: the rounding error is
 * ~1e-16·|f|/h ≈ 1e-10 and the truncation error h²/6·f''' ≈ 1e-13, while the chance that a
 * ReLU/max kink lies within h of a random input is ~1e-6 per unit and coordinate.
 */
const H = 1e-6;

/**
 * tfjs differentiates in float32 (unit roundoff 6e-8); a gradient entry is a sum of products
 * over a handful of layers, so ~30 ulps of the gradient's scale (2e-6) bounds its error, while
 * any real mistake (a transposed kernel, a missing factor, a wrong window) is of order 1.
 */
const TOLERANCE = 2e-6;

async function expectGradientMatchesFiniteDifferences(graph: IrGraph, x: Tensor, targets?: Int32Array): Promise<void> {
  const y = await tfForward(graph, x);
  // The float64 twin used for the differences must compute the same function (float32 accuracy).
  const y64 = await forward64(graph, x);
  y.data.forEach((v, i) => expect(Math.abs(Number(v) - y64[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(y64[i]))));
  const t = targets ?? Int32Array.from({ length: x.shape[0] }, () => rng.int(y.shape[1]));
  const got = await tfGradient(graph, x, t);
  const fd = await finiteDifferences(graph, x, t, H);
  expect(got.shape).toEqual(x.shape);
  const scale = fd.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  // A gradient that is zero everywhere would make the comparison vacuous.
  expect(scale).toBeGreaterThan(1e-3);
  let worst = 0;
  fd.forEach((v, i) => (worst = Math.max(worst, Math.abs(Number(got.data[i]) - v))));
  expect(worst).toBeLessThanOrEqual(TOLERANCE * Math.max(1, scale));
}

interface ReferenceCase {
  model: string;
  input: unknown;
  target: number;
  method: string;
  expected: unknown;
  atol: number;
}
const vectors = JSON.parse(readFileSync(join(REFERENCE_DIR, 'vectors.json'), 'utf8')) as { cases: ReferenceCase[] };

function flat(nested: unknown): number[] {
  return Array.isArray(nested) ? nested.flatMap(flat) : [nested as number];
}

function shapeOf(nested: unknown): number[] {
  return Array.isArray(nested) ? [nested.length, ...shapeOf(nested[0])] : [];
}

describe('tfGradient', () => {
  it('runs on a tfjs backend', async () => {
    const info = await initTfjs();
    console.log(`tfGradient tests run on the tfjs ${info.backend} backend`);
    expect(info.backend).toBeTruthy();
  });

  describe('matches float64 central differences on every operator variant', () => {
    for (const [name, spec] of Object.entries(opCases(rng))) {
      // Erf and Resize have no float64 kernel in onnxruntime: those graphs are held against
      // onnxruntime's forward (forward.test.ts) and the compiled gradients (packages/methods).
      if (spec.mixesBatch || spec.float64 === false) continue;
      it(name, async () => {
        // A trailing Flatten gives the [N, C] output a gradient target needs.
        const plain = buildGraph(spec);
        const rank = (await tfForward(plain, randn(rng, [1, ...spec.input]))).shape.length;
        const graph = rank > 2 ? buildGraph({ ...spec, nodes: [...spec.nodes, { op: 'Flatten', inputs: [plain.outputs[0].name] }] }) : plain;
        await expectGradientMatchesFiniteDifferences(graph, randn(rng, [4, ...spec.input]));
      });
    }
  });

  it('matches float64 central differences on every reference model', async () => {
    const models = referenceModels();
    expect(models.length).toBeGreaterThanOrEqual(6);
    for (const m of models) {
      // Reference inputs sit on integer points, some of them on ReLU kinks: jitter them off.
      const ref = vectors.cases.find((c) => c.model === m.name);
      const shape = [3, ...sampleShape(m.graph)];
      const x = randn(rng, shape, ref ? 0.05 : 1);
      if (ref) {
        const base = flat(ref.input);
        const d = base.length / shapeOf(ref.input)[0];
        for (let i = 0; i < x.data.length; i++) (x.data as Float32Array)[i] += base[i % d];
      }
      try {
        await expectGradientMatchesFiniteDifferences(m.graph, x);
      } catch (e) {
        throw new Error(`${m.name}: ${(e as Error).message}`);
      }
    }
  });

  it("reproduces Captum's Saliency vectors", async () => {
    const cases = vectors.cases.filter((c) => c.method === 'gradient');
    expect(cases.length).toBeGreaterThan(0);
    const models = new Map(referenceModels().map((m) => [m.name, m.graph]));
    for (const c of cases) {
      const shape = shapeOf(c.input);
      const x: Tensor = { dtype: 'float32', shape, data: Float32Array.from(flat(c.input)) };
      const got = await tfGradient(models.get(c.model)!, x, new Int32Array(shape[0]).fill(c.target));
      const want = flat(c.expected);
      want.forEach((v, i) => expect(Math.abs(Number(got.data[i]) - v)).toBeLessThanOrEqual(c.atol));
    }
  });

  it('gives each sample the gradient of its own target', async () => {
    const graph = buildGraph({ input: [3], nodes: [{ op: 'MatMul', inputs: ['x', 'W'] }], inits: { W: randn(rng, [3, 4]) } });
    const x = randn(rng, [2, 3]);
    const g = await tfGradient(graph, x, Int32Array.of(2, 0));
    // f = x·W, so ∇f_t = column t of W, whatever x is.
    const W = graph.initializers.get('W')!.data as Float32Array;
    expect(Array.from(g.data as Float32Array)).toEqual([W[2], W[6], W[10], W[0], W[4], W[8]]);
  });

  it('leaves no tfjs tensors behind (forward and gradient)', async () => {
    const tf = await getTf();
    const spec = opCases(new Rng(1))['conv: groups, asymmetric pads, strides, dilations, bias'];
    const graph = buildGraph({ ...spec, nodes: [...spec.nodes, { op: 'Flatten', inputs: ['y0'] }] });
    const x = randn(rng, [2, ...spec.input]);
    await tfGradient(graph, x, Int32Array.of(0, 1)); // first call registers gradients, loads kernels
    const before = tf.memory().numTensors;
    await tfForward(graph, x);
    await tfGradient(graph, x, Int32Array.of(3, 5));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses targets of the wrong count or out of range', async () => {
    const graph = buildGraph({ input: [3], nodes: [{ op: 'MatMul', inputs: ['x', 'W'] }], inits: { W: randn(rng, [3, 4]) } });
    const x = randn(rng, [2, 3]);
    await expect(tfGradient(graph, x, Int32Array.of(1))).rejects.toThrow(InputError);
    await expect(tfGradient(graph, x, Int32Array.of(1, 4))).rejects.toThrow(/target 4 of sample 1 is out of range/);
  });
});
