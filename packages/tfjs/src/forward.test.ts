import { afterAll, describe, expect, it } from 'vitest';
import { type IrGraph, OnnxSession, Rng, type Tensor, UnsupportedOperatorError, writeOnnx } from '@blameboard/core';
import { initTfjs } from './backend.js';
import { tfForward } from './forward.js';
import { buildGraph, randn, referenceModels, sampleShape } from '@blameboard/testing/spec-graphs';
import { opCases } from '@blameboard/testing/op-cases';

const sessions: OnnxSession[] = [];
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
});

async function ort(bytes: Uint8Array, x: Tensor): Promise<Tensor> {
  const s = await OnnxSession.create(bytes, { intraOpNumThreads: 1 });
  sessions.push(s);
  const out = await s.run({ [s.inputNames[0]]: x });
  return out[s.outputNames[0]];
}

/**
 * Both engines compute in float32 with different summation orders (XNNPACK vs MLAS), so they
 * differ by a few ulps of the accumulated magnitude: 1e-5 absolute on values of order 1,
 * relative beyond.
 */
function expectClose(got: Tensor, want: Tensor): void {
  expect(got.shape).toEqual(want.shape);
  let worst = 0;
  for (let i = 0; i < want.data.length; i++) {
    const w = Number(want.data[i]);
    worst = Math.max(worst, Math.abs(Number(got.data[i]) - w) / Math.max(1, Math.abs(w)));
  }
  expect(worst).toBeLessThanOrEqual(1e-5);
}

async function check(graph: IrGraph, x: Tensor): Promise<void> {
  const want = await ort(writeOnnx(graph), x);
  const got = await tfForward(graph, x);
  expectClose(got, want);
}

const rng = new Rng(7);
const cases = opCases(rng);

describe('tfForward equals onnxruntime', () => {
  it('starts a tfjs backend', async () => {
    const info = await initTfjs();
    expect(['wasm', 'cpu', 'tensorflow']).toContain(info.backend);
    console.log(`tfForward tests run on the tfjs ${info.backend} backend (tfjs ${info.tfjsVersion})`);
  });

  for (const [name, spec] of Object.entries(cases)) {
    it(name, async () => {
      await check(buildGraph(spec), randn(rng, [2, ...spec.input]));
    });
  }

  it('on every reference model', async () => {
    const models = referenceModels();
    expect(models.length).toBeGreaterThanOrEqual(6);
    for (const m of models) {
      const x = randn(rng, [5, ...sampleShape(m.graph)]);
      const want = await ort(m.bytes, x);
      expectClose(await tfForward(m.graph, x), want);
    }
  });

  it('refuses operators it cannot run, naming op type and node', async () => {
    const g = buildGraph({ input: [3], nodes: [{ op: 'Relu', inputs: ['x'] }, { op: 'Sin', inputs: ['y0'] }] });
    await expect(tfForward(g, randn(rng, [1, 3]))).rejects.toThrow(UnsupportedOperatorError);
    await expect(tfForward(g, randn(rng, [1, 3]))).rejects.toThrow(/Sin \(node 'sin_1'\)/);
  });
});
