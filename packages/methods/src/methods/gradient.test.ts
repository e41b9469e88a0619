import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, loadModel, type LoadedModel, type Tensor } from '@blameboard/core';
import { tfGradient } from '@blameboard/tfjs';
import { explain } from '../registry.js';
import { concreteShape, randomTensor } from '@blameboard/testing/graphs';
import { modelFrom, residualNet, smallCnn, smoothCnn, smoothMlp } from '@blameboard/testing/method-models';

afterAll(() => disposeSessions());

const referenceDir = fileURLToPath(new URL('../../fixtures/reference/', import.meta.url));

/** max |a − b| ≤ 1e-5 · max |b|: relative to the reference gradient's scale. */
function expectRelativelyClose(actual: Tensor, reference: Tensor) {
  expect(actual.shape).toEqual(reference.shape);
  const a = actual.data as Float32Array;
  const r = reference.data as Float32Array;
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < r.length; i++) {
    scale = Math.max(scale, Math.abs(r[i]));
    worst = Math.max(worst, Math.abs(a[i] - r[i]));
  }
  expect(scale).toBeGreaterThan(0);
  expect(worst).toBeLessThanOrEqual(1e-5 * scale);
}

async function compareWithTf(model: LoadedModel, n: number, seed: number, around?: number[]) {
  const x = randomTensor(concreteShape(['N', ...model.inputShape], n), seed);
  if (around) {
    // Jitter a known-live input: the small reference nets are dead (all-zero gradient) on most random points.
    const d = x.data as Float32Array;
    for (let i = 0; i < d.length; i++) d[i] = around[i % around.length] * (1 + 0.1 * d[i]);
  }
  const targets = Int32Array.from({ length: n }, (_, i) => i % model.outputSize);
  const { attributions } = await explain({ model, inputs: x, targets, method: 'gradient' });
  expectRelativelyClose(attributions, await tfGradient(model.graph!, x, targets));
}

describe('gradient: the compiled graph equals tfjs autodiff (tf.grad)', () => {
  const cases = (JSON.parse(readFileSync(`${referenceDir}vectors.json`, 'utf8')) as { cases: { model: string; input: unknown[] }[] }).cases;
  for (const file of readdirSync(referenceDir).filter((f) => f.endsWith('.onnx'))) {
    it(`on the reference model ${file}`, async () => {
      const live = (cases.find((c) => c.model === file)!.input[0] as unknown[]).flat(Infinity) as number[];
      await compareWithTf(await loadModel(`${referenceDir}${file}`), 3, 1, live);
    });
  }
  for (const [name, build] of [
    ['a conv/max-pool/avg-pool ReLU CNN', smallCnn],
    ['a BatchNorm + residual net with LeakyReLU, Sigmoid, ELU, Concat, GlobalAveragePool', residualNet],
    ['a smooth CNN (Softplus, strided conv)', smoothCnn],
    ['a Tanh/Softplus MLP', smoothMlp],
  ] as const) {
    it(`on ${name}`, async () => {
      await compareWithTf(await modelFrom(build(2), name), 4, 3);
    });
  }
});

describe('gradient parameters', () => {
  it('abs returns |∂f_t/∂x|', async () => {
    const model = await modelFrom(smallCnn(1), 'abs');
    const x = randomTensor([2, 2, 8, 8], 2);
    const targets = Int32Array.of(0, 2);
    const plain = Array.from((await explain({ model, inputs: x, targets, method: 'gradient' })).attributions.data as Float32Array);
    const abs = Array.from((await explain({ model, inputs: x, targets, method: 'gradient', params: { abs: true } })).attributions.data as Float32Array);
    expect(plain.some((v) => v < 0)).toBe(true);
    expect(abs).toEqual(plain.map(Math.abs));
  });
});
