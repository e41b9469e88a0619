import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfLayers from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IrGraph, ModelLoadError, OnnxSession, readOnnx, Rng, type Tensor, UnsupportedOperatorError, writeOnnx } from '@blameboard/core';
import { getTf, type Tf } from './backend.js';
import { tfForward } from './forward.js';
import { convertLayersModel, importLayersModel } from './import-layers.js';
import { fileSaveHandler } from './layers-io.js';
import { loadTfjsModel } from './load.js';

let tf: Tf;
let tfl: typeof TfLayers;
const tmp = mkdtempSync(join(tmpdir(), 'blameboard-layers-'));
const sessions: OnnxSession[] = [];
const rng = new Rng(3);

beforeAll(async () => {
  tf = await getTf();
  tfl = (await import('@tensorflow/tfjs-layers')) as typeof TfLayers;
});
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
  rmSync(tmp, { recursive: true, force: true });
});

const seeded = () => tfl.initializers.glorotUniform({ seed: rng.int(1 << 30) });

/** Replaces every weight with seeded values (BN variances positive) so no layer is trivial. */
function randomizeWeights(model: TfLayers.LayersModel): void {
  for (const layer of model.layers) {
    const weights = layer.weights.map((w) => {
      const size = w.shape.reduce((p, d) => p! * d!, 1)!;
      const values = Float32Array.from({ length: size }, () => rng.normal(0, 0.5));
      if (w.originalName.endsWith('moving_variance')) values.forEach((v, i) => (values[i] = 0.5 + Math.abs(v)));
      return tf.tensor(values, w.shape as number[]);
    });
    if (weights.length > 0) layer.setWeights(weights);
  }
}

async function save(model: TfLayers.LayersModel, name: string): Promise<string> {
  const dir = join(tmp, name);
  await model.save(fileSaveHandler(tf, dir));
  return join(dir, 'model.json');
}

/** NHWC → NCHW, the layout of the imported graph's input. */
function toNchw(x: Float32Array, shape: number[]): Tensor {
  if (shape.length !== 4) return { dtype: 'float32', shape, data: x };
  const [n, h, w, c] = shape;
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) out[((b * c + k) * h + i) * w + j] = x[((b * h + i) * w + j) * c + k];
  return { dtype: 'float32', shape: [n, c, h, w], data: out };
}

/**
 * onnxruntime on the imported graph, and the tfjs executor on it, against model.predict. All are
 * float32 with different summation orders: 1e-5 on outputs of order 1.
 */
async function expectImportMatchesPredict(model: TfLayers.LayersModel, name: string): Promise<IrGraph> {
  randomizeWeights(model);
  const graph = await importLayersModel(await save(model, name));
  const shape = [3, ...(model.inputs[0].shape.slice(1) as number[])];
  const x = Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rng.normal());
  const want = (model.predict(tf.tensor(x, shape)) as TfCore.Tensor).dataSync() as Float32Array;
  const xin = toNchw(x, shape);

  const bytes = writeOnnx(graph);
  expect(() => readOnnx(bytes)).not.toThrow();
  const session = await OnnxSession.create(bytes, { intraOpNumThreads: 1 });
  sessions.push(session);
  const ort = (await session.run({ [session.inputNames[0]]: xin }))[session.outputNames[0]];
  const viaTf = await tfForward(graph, xin);
  for (const got of [ort, viaTf]) {
    expect(got.data.length).toBe(want.length);
    let worst = 0;
    want.forEach((v, i) => (worst = Math.max(worst, Math.abs(Number(got.data[i]) - v) / Math.max(1, Math.abs(v)))));
    expect(worst).toBeLessThanOrEqual(1e-5);
  }
  return graph;
}

describe('importLayersModel equals model.predict', () => {
  it('dense layers with relu, dropout, tanh, softmax', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [5], units: 8, activation: 'relu', kernelInitializer: seeded() }),
        tfl.layers.dropout({ rate: 0.5 }),
        tfl.layers.dense({ units: 6, activation: 'tanh' }),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    await expectImportMatchesPredict(model, 'mlp');
  });

  it('conv + pool + flatten + dense (NHWC model, NCHW graph)', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [9, 8, 2], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.conv2d({ filters: 3, kernelSize: [2, 3], strides: 2, activation: 'sigmoid' }),
        tfl.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 5 }),
      ],
    });
    const graph = await expectImportMatchesPredict(model, 'cnn');
    expect(graph.inputs[0].shape).toEqual(['N', 2, 9, 8]);
    expect(graph.outputs[0].shape).toEqual(['N', 5]);
  });

  it('batch normalization, dilated and depthwise convs, elu, softplus, global pooling', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [8, 7, 3], filters: 4, kernelSize: 3, padding: 'same', dilationRate: 2, useBias: false }),
        tfl.layers.batchNormalization({ epsilon: 1e-3 }),
        tfl.layers.activation({ activation: 'elu' }),
        tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, activation: 'softplus' }),
        tfl.layers.globalAveragePooling2d({}),
        tfl.layers.dense({ units: 4 }),
        tfl.layers.batchNormalization({ scale: false }),
        tfl.layers.activation({ activation: 'tanh' }),
        tfl.layers.dense({ units: 2 }),
      ],
    });
    await expectImportMatchesPredict(model, 'bn');
  });

  it('a functional model with Add, Concatenate, ZeroPadding2D and layer activations', async () => {
    const input = tfl.input({ shape: [7, 7, 2] });
    const padded = tfl.layers.zeroPadding2d({ padding: 1 }).apply(input) as TfLayers.SymbolicTensor;
    const a = tfl.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }).apply(padded) as TfLayers.SymbolicTensor;
    const b = tfl.layers.conv2d({ filters: 4, kernelSize: 1 }).apply(a) as TfLayers.SymbolicTensor;
    const sum = tfl.layers.leakyReLU({ alpha: 0.2 }).apply(tfl.layers.add().apply([a, b])) as TfLayers.SymbolicTensor;
    const p1 = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(sum) as TfLayers.SymbolicTensor;
    const p2 = tfl.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same' }).apply(sum) as TfLayers.SymbolicTensor;
    const joined = tfl.layers.concatenate({ axis: -1 }).apply([p1, p2]) as TfLayers.SymbolicTensor;
    const g = tfl.layers.globalMaxPooling2d({}).apply(tfl.layers.elu().apply(joined)) as TfLayers.SymbolicTensor;
    const flat = tfl.layers.flatten().apply(joined) as TfLayers.SymbolicTensor;
    const both = tfl.layers.concatenate().apply([tfl.layers.dense({ units: 3 }).apply(flat) as TfLayers.SymbolicTensor, g]);
    const out = tfl.layers.softmax().apply(tfl.layers.reLU().apply(both)) as TfLayers.SymbolicTensor;
    await expectImportMatchesPredict(tfl.model({ inputs: input, outputs: out }), 'functional');
  });
});

describe('the layout convention: the graph a PyTorch export of the same network would be', () => {
  /** Every layer kind the zoo uses, with C > 1 before Flatten so the Dense rows' order matters. */
  function exampleCnn(): TfLayers.LayersModel {
    const input = tfl.input({ shape: [10, 10, 2] });
    let h = tfl.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', name: 'c1' }).apply(input) as TfLayers.SymbolicTensor;
    h = tfl.layers.batchNormalization({ name: 'bn' }).apply(h) as TfLayers.SymbolicTensor;
    const r = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'c2' }).apply(h) as TfLayers.SymbolicTensor;
    h = tfl.layers.add().apply([r, h]) as TfLayers.SymbolicTensor;
    h = tfl.layers.reLU().apply(h) as TfLayers.SymbolicTensor;
    h = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(h) as TfLayers.SymbolicTensor;
    h = tfl.layers.averagePooling2d({ poolSize: 2 }).apply(h) as TfLayers.SymbolicTensor;
    h = tfl.layers.flatten().apply(h) as TfLayers.SymbolicTensor;
    h = tfl.layers.dense({ units: 6, activation: 'relu' }).apply(h) as TfLayers.SymbolicTensor;
    const out = tfl.layers.dense({ units: 4 }).apply(h) as TfLayers.SymbolicTensor;
    return tfl.model({ inputs: input, outputs: out });
  }

  async function runOrt(graph: IrGraph, x: Tensor): Promise<Float32Array> {
    const session = await OnnxSession.create(writeOnnx(graph), { intraOpNumThreads: 1 });
    sessions.push(session);
    return (await session.run({ [session.inputNames[0]]: x }))[session.outputNames[0]].data as Float32Array;
  }

  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

  it('an NHWC CNN becomes NCHW with no Transpose: Flatten in (c, h, w) order, the Dense rows permuted', async () => {
    const model = exampleCnn();
    randomizeWeights(model);
    const graph = convertLayersModel(model, { name: 'example', outputName: 'logits' });
    expect(graph.opsetVersion).toBe(13);
    expect(graph.name).toBe('example');
    expect(graph.inputs[0].shape).toEqual(['N', 2, 10, 10]);
    expect(graph.outputs[0].name).toBe('logits');
    expect(graph.nodes.map((n) => n.opType)).toEqual([
      'Conv', 'Relu', 'BatchNormalization', 'Conv', 'Add', 'Relu', 'MaxPool', 'AveragePool', 'Flatten', 'Gemm', 'Relu', 'Gemm',
    ]);
    const conv = graph.nodes.find((n) => n.opType === 'Conv' && n.name === 'c2')!;
    expect(conv.attributes.pads).toEqual({ type: 'ints', value: [1, 1, 1, 1] });
    expect(graph.initializers.get(conv.inputs[1])!.shape).toEqual([3, 3, 3, 3]);

    const shape = [20, 10, 10, 2];
    const x = Float32Array.from({ length: 20 * 200 }, () => rng.normal());
    const want = (model.predict(tf.tensor(x, shape)) as TfCore.Tensor).dataSync() as Float32Array;
    const got = await runOrt(graph, toNchw(x, shape));
    expect(got.length).toBe(want.length);
    expect(maxDiff(got, want)).toBeLessThan(1e-4);
    // The permutation is needed: the Dense kernel merely transposed reads the features in the
    // wrong order and the outputs differ visibly.
    const gemm = graph.nodes.find((n) => n.opType === 'Gemm')!;
    const kernel = model.layers.find((l) => l.getClassName() === 'Dense')!.getWeights()[0];
    const [fin, fout] = kernel.shape;
    const k = kernel.dataSync() as Float32Array;
    const plain = graph.initializers.get(gemm.inputs[1])!;
    const unpermuted = { ...graph, initializers: new Map(graph.initializers) };
    unpermuted.initializers.set(gemm.inputs[1], { ...plain, data: Float32Array.from({ length: fin * fout }, (_, i) => k[(i % fin) * fout + Math.floor(i / fin)]) });
    expect(maxDiff(await runOrt(unpermuted, toNchw(x, shape)), want)).toBeGreaterThan(1e-2);
  });

  it('a flat-input MLP: Gemm with transB, nothing permuted, the output named as asked', async () => {
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [5], units: 4, activation: 'relu' }), tfl.layers.dense({ units: 2 })],
    });
    randomizeWeights(model);
    const graph = convertLayersModel(model, { name: 'mlp', outputName: 'output' });
    expect(graph.outputs[0].name).toBe('output');
    expect(graph.nodes.map((n) => n.opType)).toEqual(['Gemm', 'Relu', 'Gemm']);
    expect(graph.nodes[0].attributes.transB).toEqual({ type: 'int', value: 1 });
    const x = Float32Array.from({ length: 8 * 5 }, () => rng.normal());
    const want = (model.predict(tf.tensor(x, [8, 5])) as TfCore.Tensor).dataSync() as Float32Array;
    expect(maxDiff(await runOrt(graph, { dtype: 'float32', shape: [8, 5], data: x }), want)).toBeLessThan(1e-5);
  });

  it('a flattened image that reaches no Dense layer (a Concatenate, the output) is transposed to NHWC first', async () => {
    const input = tfl.input({ shape: [4, 3, 2] });
    const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 2, name: 'conv' }).apply(input) as TfLayers.SymbolicTensor;
    const flat = tfl.layers.flatten({ name: 'flat' }).apply(conv) as TfLayers.SymbolicTensor;
    const dense = tfl.layers.dense({ units: 2 }).apply(flat) as TfLayers.SymbolicTensor;
    const joined = tfl.layers.concatenate().apply([flat, dense]) as TfLayers.SymbolicTensor;
    const graph = await expectImportMatchesPredict(tfl.model({ inputs: input, outputs: joined }), 'flatten-to-concat');
    expect(graph.nodes.filter((n) => n.opType === 'Transpose').map((n) => n.name)).toEqual(['flat_to_nhwc']);

    const asOutput = tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [4, 3, 2], filters: 3, kernelSize: 2 }), tfl.layers.flatten()] });
    const graph2 = await expectImportMatchesPredict(asOutput, 'flatten-as-output');
    expect(graph2.nodes.map((n) => n.opType)).toEqual(['Conv', 'Transpose', 'Flatten']);
  });

  it('a Flatten reaching Dense layers through Dropout is permuted, without a Transpose', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [5, 4, 2], filters: 3, kernelSize: 2 }),
        tfl.layers.flatten(),
        tfl.layers.dropout({ rate: 0.3 }),
        tfl.layers.dense({ units: 3 }),
      ],
    });
    const graph = await expectImportMatchesPredict(model, 'flatten-dropout-dense');
    expect(graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Flatten', 'Gemm']);
  });

  it('names nodes uniquely when a layer is named like a generated one', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [3], units: 4, activation: 'relu', name: 'fc' }),
        tfl.layers.dense({ units: 2, activation: 'relu', name: 'fc_relu' }),
      ],
    });
    const graph = await expectImportMatchesPredict(model, 'names');
    expect(graph.nodes.map((n) => n.name)).toEqual(['fc', 'fc_relu', 'fc_relu_1', 'fc_relu_relu']);
  });
});

describe('loadTfjsModel', () => {
  it('goes through the converter: NCHW input shape, trailing softmax stripped for the logits', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [6, 5, 1], filters: 2, kernelSize: 3, activation: 'relu' }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    const path = await save(model, 'for-load-model');
    const loaded = await loadTfjsModel(path);
    expect(loaded.inputShape).toEqual([1, 6, 5]);
    expect(loaded.outputSize).toBe(3);
    expect(loaded.hadSoftmax).toBe(true);
    expect(loaded.unsupported).toEqual([]);
    expect(loaded.source).toBe(path);
    // the folder holding model.json names the same model
    expect((await loadTfjsModel(dirname(path))).sha256).toBe(loaded.sha256);
  });
});

describe('importLayersModel refuses', () => {
  it('a model it cannot convert when given in memory too, naming the layer', () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2, activation: 'selu', name: 'odd' })] });
    expect(() => convertLayersModel(model)).toThrow(/Dense\(activation=selu\) \(node 'odd'\)/);
  });

  it('unsupported layers and activations, naming class and layer', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [4, 4, 1], filters: 2, kernelSize: 3, padding: 'same', name: 'c1' }),
        tfl.layers.upSampling2d({ size: [2, 2], name: 'up' }),
        tfl.layers.activation({ activation: 'selu', name: 'act' }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 2 }),
      ],
    });
    const path = await save(model, 'unsupported');
    await expect(importLayersModel(path)).rejects.toThrow(UnsupportedOperatorError);
    await expect(importLayersModel(path)).rejects.toThrow(/UpSampling2D \(node 'up'\), Activation\(activation=selu\) \(node 'act'\)/);
  });

  it('a missing model.json, a missing shard and a shard outside the model folder', async () => {
    await expect(importLayersModel(join(tmp, 'nope', 'model.json'))).rejects.toThrow(ModelLoadError);
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 1 })] });
    const path = await save(model, 'escape');
    const json = JSON.parse(readFileSync(path, 'utf8')) as { weightsManifest: { paths: string[] }[] };
    json.weightsManifest[0].paths = ['../mlp/weights.bin'];
    writeFileSync(path, JSON.stringify(json));
    await expect(importLayersModel(path)).rejects.toThrow(/outside the model's folder/);
    json.weightsManifest[0].paths = ['gone.bin'];
    writeFileSync(path, JSON.stringify(json));
    await expect(importLayersModel(path)).rejects.toThrow(/cannot read weight shard 'gone.bin'/);
    writeFileSync(path, '{"not": "a model"}');
    await expect(importLayersModel(path)).rejects.toThrow(/not a tfjs model.json/);
  });

  it('refuses a shard that is a FIFO or a symlink out of the folder, and a model.json without weights', async () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 1 })] });
    const path = await save(model, 'special');
    const folder = dirname(path);
    const json = JSON.parse(readFileSync(path, 'utf8')) as { weightsManifest: unknown };
    const outside = mkdtempSync(join(tmpdir(), 'bb-outside-'));
    copyFileSync(join(folder, 'weights.bin'), join(outside, 'weights.bin'));
    symlinkSync(join(outside, 'weights.bin'), join(folder, 'linked.bin'));
    (json.weightsManifest as { paths: string[] }[])[0].paths = ['linked.bin'];
    writeFileSync(path, JSON.stringify(json));
    await expect(importLayersModel(path)).rejects.toThrow(/weight shard 'linked.bin' .* lies outside the model's folder/);
    execFileSync('mkfifo', [join(folder, 'pipe.bin')]);
    (json.weightsManifest as { paths: string[] }[])[0].paths = ['pipe.bin'];
    writeFileSync(path, JSON.stringify(json));
    await expect(importLayersModel(path)).rejects.toThrow(/cannot read weight shard 'pipe.bin' .*: it is a FIFO, not a regular file/);
    for (const manifest of [null, []]) {
      json.weightsManifest = manifest;
      writeFileSync(path, JSON.stringify(json));
      await expect(importLayersModel(path)).rejects.toThrow(/lists no weights .*: refused rather than run with random weights/);
    }
  });
});
