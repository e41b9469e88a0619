import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, forward, loadModel, sizeOf, targetOutputs as targetLogits, type LoadedModel, type Tensor } from '@blameboard/core';
import { tfGradient } from '@blameboard/tfjs';
import { loadDataset } from '@blameboard/datasets';
import { explain } from './registry.js';

afterAll(() => disposeSessions());

// The trained zoo (packages/models/zoo, built by `blameboard train`); read as plain ONNX files so
// this package does not depend on @blameboard/models.
const zooDir = fileURLToPath(new URL('../../models/zoo/', import.meta.url));
const files = existsSync(zooDir) ? readdirSync(zooDir).filter((f) => f.endsWith('.onnx')).sort() : [];

/** Test samples of the dataset the model was trained on (its card says which), in its layout. */
async function inputsFor(model: LoadedModel, file: string, n: number, seed: number): Promise<Tensor> {
  const card = JSON.parse(readFileSync(`${zooDir}${file.replace(/\.onnx$/, '.card.json')}`, 'utf8')) as { dataset: string };
  const layout = model.inputShape.length === 1 ? 'flat' : 'nchw';
  return (await loadDataset(card.dataset, { split: 'test', count: n, seed, layout })).inputs;
}

/** The predicted class of each sample: SPEC §3's default target. */
async function predicted(model: LoadedModel, x: Tensor): Promise<Int32Array> {
  const logits = (await forward(model, x)).data as Float32Array;
  const c = model.outputSize;
  return Int32Array.from({ length: x.shape[0] }, (_, i) => {
    let best = 0;
    for (let k = 1; k < c; k++) if (logits[i * c + k] > logits[i * c + best]) best = k;
    return best;
  });
}

function rowSums(t: Tensor): number[] {
  const per = sizeOf(t.shape.slice(1));
  const d = t.data as Float32Array;
  return Array.from({ length: t.shape[0] }, (_, i) => d.subarray(i * per, (i + 1) * per).reduce((s, v) => s + v, 0));
}

describe('methods on the trained zoo', () => {
  for (const file of files) {
    describe(file, () => {
      const load = () => loadModel(`${zooDir}${file}`);

      it('gradient equals tfjs autodiff within 1e-5 relative', async () => {
        const model = await load();
        // 16 samples: the two-input ReLU nets are flat on part of their domain, and a handful of
        // draws can all land there (a zero gradient would check nothing).
        const x = await inputsFor(model, file, 16, 1);
        const targets = Int32Array.from({ length: 16 }, (_, i) => i % model.outputSize);
        const { attributions } = await explain({ model, inputs: x, targets, method: 'gradient' });
        const ref = (await tfGradient(model.graph!, x, targets)).data as Float32Array;
        const a = attributions.data as Float32Array;
        const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        expect(scale).toBeGreaterThan(0);
        a.forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThanOrEqual(1e-5 * scale));
      });

      // The two-input equivalence nets are one ReLU kink each: a quadrature test there measures
      // where the kink falls, not the method; vectors.test.ts holds them to Captum exactly.
      if (!file.startsWith('equivalent-')) it('integrated gradients is complete within 1% of |f(x)| at 64 Gauss–Legendre steps', async () => {
        const model = await load();
        const x = await inputsFor(model, file, 6, 2);
        const targets = await predicted(model, x);
        const { attributions } = await explain({ model, inputs: x, targets, method: 'integrated-gradients', params: { steps: 64 } });
        const fx = await targetLogits(model, x, targets);
        const f0 = await targetLogits(model, float32(x.shape), targets);
        rowSums(attributions).forEach((s, i) => expect(Math.abs(s - (fx[i] - f0[i]))).toBeLessThanOrEqual(0.01 * Math.abs(fx[i])));
      });

      it('deeplift sums to f(x) − f(x′) within 1e-4', async () => {
        const model = await load();
        const x = await inputsFor(model, file, 6, 3);
        const targets = await predicted(model, x);
        const { attributions } = await explain({ model, inputs: x, targets, method: 'deeplift' });
        const fx = await targetLogits(model, x, targets);
        const f0 = await targetLogits(model, float32(x.shape), targets);
        rowSums(attributions).forEach((s, i) => expect(Math.abs(s - (fx[i] - f0[i]))).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(fx[i] - f0[i]))));
      });
    });
  }
});
