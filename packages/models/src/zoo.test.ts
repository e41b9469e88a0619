import { readFileSync } from 'node:fs';
import { loadDataset } from '@blameboard/datasets';
import { ModelLoadError, UsageError, writeOnnx } from '@blameboard/core';
import { fileLoadHandler, getTf, importLayersModel } from '@blameboard/tfjs';
import type * as TfCore from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256 } from './card.js';
import { accuracy, maxAbsDifference, r2, runOnnx } from './check.js';
import { equivalentPairs, getZooEntry, resolveModel, zoo, ZOO_DIR, zooIds } from './zoo.js';

// The spec's floors (SPEC §5), written here independently of the architectures' own numbers.
const FLOORS: Record<string, { metric: 'testAccuracy' | 'r2'; floor: number }> = {
  'mnist-mlp': { metric: 'testAccuracy', floor: 0.97 },
  'mnist-cnn': { metric: 'testAccuracy', floor: 0.985 },
  'mnist-bn-cnn': { metric: 'testAccuracy', floor: 0.98 },
  'synthetic-mlp': { metric: 'r2', floor: 0.99 },
  'mnist-mlp-rescaled': { metric: 'testAccuracy', floor: 0.97 },
  'mnist-cnn-split': { metric: 'testAccuracy', floor: 0.985 },
  'mnist-bn-cnn-folded': { metric: 'testAccuracy', floor: 0.98 },
};

const SAMPLES = 1000;

async function inputsFor(id: string) {
  const e = getZooEntry(id);
  return loadDataset(e.dataset, { split: 'test', count: SAMPLES, layout: e.dataset === 'mnist' ? e.layout : undefined });
}

describe('the shipped zoo', () => {
  it.each(zooIds)('%s loads, and its card matches its file', async (id) => {
    const entry = getZooEntry(id);
    const model = await resolveModel(id);
    expect(model.id).toBe(id);
    expect(entry.card.id).toBe(id);
    expect(entry.card.sha256).toBe(sha256(readFileSync(entry.file)));
    expect(model.inputShape).toEqual(entry.card.inputShape);
    expect(model.outputSize).toBe(entry.card.outputSize);
    expect(model.unsupported).toEqual([]);
    expect(entry.card.parameterCount).toBeGreaterThan(0);
    expect(entry.card.architecture.length).toBeGreaterThan(0);
  });

  it.each(Object.keys(FLOORS))('%s meets its floor on the card and re-measured on 1000 test samples', async (id) => {
    const { metric, floor } = FLOORS[id];
    const entry = getZooEntry(id);
    expect(entry.card[metric]).toBeGreaterThanOrEqual(floor);
    const data = await inputsFor(id);
    const out = await runOnnx(readFileSync(entry.file), data.inputs);
    const measured = metric === 'r2' ? r2(out, data.labels) : accuracy(out, data.labels);
    expect(measured).toBeGreaterThanOrEqual(floor);
  });

  it('trained models record how they were trained', () => {
    for (const id of ['mnist-mlp', 'mnist-cnn', 'mnist-bn-cnn', 'synthetic-mlp']) {
      const c = getZooEntry(id).card;
      expect(c.seed).toBeTypeOf('number');
      expect(c.epochs).toBeGreaterThan(0);
      expect(c.trainingSeconds).toBeGreaterThan(0);
      expect(c.backend).toMatch(/wasm|cpu|tensorflow/);
      expect(c.opset).toBe(13);
    }
    expect(getZooEntry('mnist-cnn').card.inputShape).toEqual([1, 28, 28]);
    expect(getZooEntry('mnist-bn-cnn').card.architecture.join('\n')).toMatch(/BatchNormalization[\s\S]*Add[\s\S]*AveragePool/);
    expect(getZooEntry('mnist-bn-cnn-folded').card.architecture.join('\n')).not.toMatch(/BatchNormalization/);
  });

  const TRAINED = ['mnist-mlp', 'mnist-cnn', 'mnist-bn-cnn', 'synthetic-mlp'];

  it.each(TRAINED)('%s.onnx computes what its tfjs LayersModel predicts (tfjs runs the model itself)', async (id) => {
    const tf = await getTf();
    const model = await tfl.loadLayersModel(fileLoadHandler(tf, join(ZOO_DIR, 'tfjs', id, 'model.json')));
    const data = await inputsFor(id);
    const n = 200;
    const per = data.inputs.data.length / SAMPLES;
    const x = { ...data.inputs, shape: [n, ...data.inputs.shape.slice(1)], data: data.inputs.data.subarray(0, n * per) };
    // NCHW with one channel is the same bytes as tfjs's NHWC.
    const tfShape = [n, ...(model.inputs[0].shape.slice(1) as number[])];
    const want = tf.tidy(() => (model.predict(tf.tensor(x.data as Float32Array, tfShape)) as TfCore.Tensor).dataSync() as Float32Array);
    model.dispose();
    const got = await runOnnx(readFileSync(getZooEntry(id).file), x);
    expect(got.data.length).toBe(want.length);
    expect(maxAbsDifference(got.data as Float32Array, want)).toBeLessThanOrEqual(1e-4);
  });

  it.each(TRAINED)('converting zoo/tfjs/%s/model.json gives the shipped ONNX byte for byte', async (id) => {
    const graph = await importLayersModel(join(ZOO_DIR, 'tfjs', id, 'model.json'), {
      name: id.replace(/-/g, '_'),
      outputName: getZooEntry(id).dataset === 'mnist' ? 'logits' : 'output',
    });
    expect(sha256(writeOnnx(graph))).toBe(getZooEntry(id).card.sha256);
  });

  it.each(equivalentPairs)('pair $id: $a and $b agree within 1e-4 on 1000 $dataset samples', async ({ a, b, dataset }) => {
    expect(getZooEntry(a).dataset).toBe(dataset);
    const data = await inputsFor(a);
    const ya = await runOnnx(readFileSync(getZooEntry(a).file), data.inputs);
    const yb = await runOnnx(readFileSync(getZooEntry(b).file), data.inputs);
    expect(maxAbsDifference(ya.data as Float32Array, yb.data as Float32Array)).toBeLessThanOrEqual(1e-4);
    // different weights, same function
    expect(getZooEntry(a).card.sha256).not.toBe(getZooEntry(b).card.sha256);
  });

  it('the reference pair computes relu(relu(x1) − 1 − relu(x2)) on equivalence-2d', async () => {
    const data = await loadDataset('equivalence-2d', { count: 200 });
    const y = await runOnnx(readFileSync(getZooEntry('equivalent-b').file), data.inputs);
    expect(maxAbsDifference(y.data as Float32Array, data.labels)).toBeLessThan(1e-5);
  });
});

describe('resolveModel', () => {
  it('loads a path to an .onnx file', async () => {
    const m = await resolveModel(getZooEntry('mnist-cnn').file);
    expect(m.inputShape).toEqual([1, 28, 28]);
  });

  it('loads a tfjs model.json, or its folder, through @blameboard/tfjs', async () => {
    const modelJson = join(ZOO_DIR, 'tfjs', 'mnist-cnn', 'model.json');
    const m = await resolveModel(modelJson);
    expect(m.id).toBe(modelJson);
    expect(m.inputShape).toEqual([1, 28, 28]);
    expect(m.outputSize).toBe(10);
    expect((await resolveModel(dirname(modelJson))).sha256).toBe(m.sha256);
    await expect(resolveModel(join(ZOO_DIR, 'tfjs', 'no-such-model', 'model.json'))).rejects.toThrow(ModelLoadError);
  });

  it('names the zoo ids for an unknown model', async () => {
    const err = await resolveModel('lenet-9000').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/unknown model 'lenet-9000'/);
    for (const id of zooIds) expect((err as Error).message).toContain(id);
  });

  it('zoo entries point at files inside the package', () => {
    for (const e of zoo) expect(e.file).toMatch(/[\\/]zoo[\\/][a-z0-9-]+\.onnx$/);
    expect(() => getZooEntry('nope')).toThrow(/unknown zoo model 'nope' \(known: mnist-mlp/);
  });
});
