import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { writeOnnx } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { maxAbsDifference, runOnnx } from '../check.js';
import { randomTensor } from '../test-utils.js';
import { initTrainingBackend } from '../tfjs/backend.js';
import { predict } from '../train.js';
import { layersToIr } from './layers-to-ir.js';

/** Random weights everywhere (also BN moving statistics, variances positive). */
function randomize(model: tfl.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (!ws.length) continue;
    layer.setWeights(
      ws.map((w, i) => {
        const r = randomTensor(w.shape, s++, 0.6);
        const isVariance = layer.getClassName() === 'BatchNormalization' && i === ws.length - 1;
        return tf.tensor(Float32Array.from(r.data as Float32Array, (v) => (isVariance ? 0.5 + Math.abs(v) : v)), w.shape);
      }),
    );
  }
}

function exampleCnn(): tfl.LayersModel {
  // Every layer kind the exporter knows, with C > 1 before Flatten so the Gemm permutation matters.
  const input = tfl.input({ shape: [10, 10, 2] });
  let h = tfl.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', name: 'c1' }).apply(input) as tfl.SymbolicTensor;
  h = tfl.layers.batchNormalization({ name: 'bn' }).apply(h) as tfl.SymbolicTensor;
  const r = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'c2' }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.add().apply([r, h]) as tfl.SymbolicTensor;
  h = tfl.layers.reLU().apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.averagePooling2d({ poolSize: 2 }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.flatten().apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.dense({ units: 6, activation: 'relu' }).apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 4 }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/** NHWC samples → the same samples in NCHW. */
function toNchw(x: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++)
        for (let k = 0; k < c; k++) out[((i * c + k) * h + y) * w + xx] = x[((i * h + y) * w + xx) * c + k];
  return out;
}

describe('layersToIr', () => {
  it('exports an NHWC tfjs CNN as an NCHW ONNX graph computing the same logits', async () => {
    await initTrainingBackend();
    const model = exampleCnn();
    randomize(model, 3);
    const graph = layersToIr(model, { name: 'example' });
    expect(graph.opsetVersion).toBe(13);
    expect(graph.inputs[0].shape).toEqual(['N', 2, 10, 10]);
    expect(graph.nodes.map((n) => n.opType)).toEqual([
      'Conv', 'Relu', 'BatchNormalization', 'Conv', 'Add', 'Relu', 'MaxPool', 'AveragePool', 'Flatten', 'Gemm', 'Relu', 'Gemm',
    ]);
    const conv = graph.nodes.find((n) => n.opType === 'Conv' && n.name === 'c2')!;
    expect(conv.attributes.pads).toEqual({ type: 'ints', value: [1, 1, 1, 1] });
    expect(graph.initializers.get(conv.inputs[1])!.shape).toEqual([3, 3, 3, 3]);

    const n = 20;
    const x = randomTensor([n, 10, 10, 2], 7, 1).data as Float32Array;
    const expected = predict(model, x, n, [10, 10, 2]);
    const got = await runOnnx(writeOnnx(graph), { dtype: 'float32', shape: [n, 2, 10, 10], data: toNchw(x, n, 10, 10, 2) });
    expect(got.shape).toEqual([n, 4]);
    expect(maxAbsDifference(got.data as Float32Array, expected)).toBeLessThan(1e-4);
    // the permutation is needed: without it (or with a wrong layout) outputs differ visibly
    expect(maxAbsDifference(expected, new Float32Array(expected.length))).toBeGreaterThan(1e-2);
  });

  it('exports a flat-input MLP without permuting', async () => {
    await initTrainingBackend();
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [5], units: 4, activation: 'relu' }), tfl.layers.dense({ units: 2 })],
    });
    randomize(model, 9);
    const graph = layersToIr(model, { name: 'mlp', outputName: 'output' });
    expect(graph.outputs[0].name).toBe('output');
    const x = randomTensor([8, 5], 2, 1);
    const got = await runOnnx(writeOnnx(graph), x);
    expect(maxAbsDifference(got.data as Float32Array, predict(model, x.data as Float32Array, 8, [5]))).toBeLessThan(1e-5);
  });

  it('refuses layers it cannot export, naming them', async () => {
    await initTrainingBackend();
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2, activation: 'tanh', name: 'odd' })] });
    expect(() => layersToIr(model, { name: 'x' })).toThrow(/activation tanh \(node 'odd'\)/);
  });
});
