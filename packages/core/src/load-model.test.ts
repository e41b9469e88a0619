import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, ModelLoadError } from './errors.js';
import { loadModel, validateInputs, validateTargets } from './load-model.js';
import { Rng } from './rng.js';
import { forward } from './runtime/forward.js';
import { externalize, mlpGraph } from './onnx/test-utils/fixture-graphs.js';
import { writeOnnx } from './onnx/write.js';
import { disposeSessions, OnnxSession } from './runtime/session.js';
import { float32, sizeOf, type Tensor } from './tensor.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const fixture = (rel: string) => path.join(fixtures, rel);
afterAll(() => disposeSessions());

const randn = (shape: number[], seed = 1): Tensor => float32(shape, new Rng(seed).fillNormal(new Float32Array(sizeOf(shape))));

async function runFile(file: string, x: Tensor): Promise<Tensor> {
  const s = await OnnxSession.create(readFileSync(file), { intraOpNumThreads: 1 });
  try {
    const out = await s.run({ [s.inputNames[0]]: x });
    return out[s.outputNames[0]];
  } finally {
    await s.dispose();
  }
}

describe('loadModel', () => {
  for (const f of readdirSync(fixture('reference')).filter((f) => f.endsWith('.onnx'))) {
    it(`loads reference/${f}; forward equals onnxruntime on the file`, async () => {
      const m = await loadModel(fixture(`reference/${f}`));
      expect(m.graph).not.toBeNull();
      expect(m.unsupported).toEqual([]);
      expect(m.hadSoftmax).toBe(false);
      expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(m.id).toBe(fixture(`reference/${f}`));
      const x = randn([3, ...m.inputShape]);
      const y = await forward(m, x);
      const want = await runFile(fixture(`reference/${f}`), x);
      expect(y.shape).toEqual([3, m.outputSize]);
      expect(y.data).toEqual(want.data);
    });
  }

  it('loads the PyTorch-style export with batches of any size', async () => {
    const m = await loadModel(fixture('pytorch-style.onnx'));
    expect(m.inputShape).toEqual([3, 8, 8]);
    expect(m.inputName).toBe('input');
    expect(m.outputSize).toBe(3);
    expect(m.graph!.nodes.map((n) => n.opType)).toContain('BatchNormalization');
    const x = randn([7, 3, 8, 8], 4);
    const whole = await forward(m, x, { batchSize: 256 });
    const chunked = await forward(m, x, { batchSize: 3 });
    expect(chunked.data).toEqual(whole.data);
    expect(whole.data).toEqual((await runFile(fixture('pytorch-style.onnx'), x)).data);
  });

  it('strips a trailing Softmax: forward gives logits, probability gives the original output', async () => {
    const plain = await loadModel(fixture('mlp.onnx'));
    const m = await loadModel(fixture('mlp-softmax.onnx'));
    expect(m.hadSoftmax).toBe(true);
    expect(plain.hadSoftmax).toBe(false);
    expect(m.graph!.nodes.map((n) => n.opType)).toEqual(['Gemm', 'Relu', 'Gemm']);
    expect(m.graph!.outputs).toEqual([{ name: 'logits', dtype: 'float32', shape: ['N', 3] }]);
    expect(m.onnx).toEqual(new Uint8Array(readFileSync(fixture('mlp-softmax.onnx'))));
    const x = randn([5, 4], 2);
    const logits = await forward(m, x);
    expect(logits.data).toEqual((await forward(plain, x)).data); // same weights, no softmax
    const p = await forward(m, x, { output: 'probability' });
    const original = await runFile(fixture('mlp-softmax.onnx'), x);
    Array.from(p.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo((original.data as Float32Array)[i], 6));
  });

  it('strips a trailing LogSoftmax; probability = exp(original output)', async () => {
    const m = await loadModel(fixture('mlp-logsoftmax.onnx'));
    expect(m.hadSoftmax).toBe(true);
    const x = randn([4, 4], 3);
    const p = await forward(m, x, { output: 'probability' });
    const original = await runFile(fixture('mlp-logsoftmax.onnx'), x);
    Array.from(p.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(Math.exp((original.data as Float32Array)[i]), 6));
  });

  it('keeps a model with an unsupported operator usable for forward passes', async () => {
    const m = await loadModel(fixture('unsupported-op.onnx'));
    expect(m.graph).toBeNull();
    expect(m.unsupported).toEqual([{ opType: 'Sin', name: 'act' }]);
    expect(m.outputSize).toBe(3);
    const x = randn([2, 4], 5);
    expect((await forward(m, x)).data).toEqual((await runFile(fixture('unsupported-op.onnx'), x)).data);
  });

  it('gives a model whose external weights changed a new identity (and session), though its .onnx is the same', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bb-external-'));
    try {
      const file = path.join(dir, 'model.onnx');
      const first = externalize(mlpGraph({ seed: 1 }), 'w1', 'weights.bin');
      const second = externalize(mlpGraph({ seed: 2 }), 'w1', 'weights.bin');
      writeFileSync(file, first.model);
      writeFileSync(path.join(dir, 'weights.bin'), first.data);
      const a = await loadModel(file);
      writeFileSync(path.join(dir, 'weights.bin'), second.data);
      const b = await loadModel(file);
      expect(readFileSync(file)).toEqual(Buffer.from(first.model));
      expect(b.sha256).not.toBe(a.sha256);
      const x = randn([2, 4], 8);
      expect((await forward(b, x)).data).not.toEqual((await forward(a, x)).data);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('inlines external data so the bytes run on their own', async () => {
    const m = await loadModel(fixture('external/inside/model.onnx'));
    const plain = await loadModel(fixture('mlp.onnx'));
    const x = randn([3, 4], 6);
    expect((await forward(m, x)).data).toEqual((await forward(plain, x)).data);
    const s = await OnnxSession.create(m.onnx, { intraOpNumThreads: 1 });
    expect((await s.run({ x })).y.data).toEqual((await forward(plain, x)).data);
    await s.dispose();
  });

  it('runs a model exported with a fixed batch in chunks of that batch', async () => {
    const g = mlpGraph();
    g.inputs[0].shape = [2, 4];
    g.outputs[0].shape = [2, 3];
    const fixed = await loadModel({ bytes: writeOnnx(g), id: 'fixed' });
    const dynamic = await loadModel(fixture('mlp.onnx'));
    expect(fixed.inputShape).toEqual([4]);
    const x = randn([5, 4], 8);
    const y = await forward(fixed, x, { batchSize: 64 });
    expect(y.shape).toEqual([5, 3]);
    expect(y.data).toEqual((await forward(dynamic, x)).data);
  });

  it('loads from bytes with an id', async () => {
    const m = await loadModel({ bytes: readFileSync(fixture('mlp.onnx')), id: 'mem' });
    expect(m.id).toBe('mem');
    expect(m.source).toBe('');
    expect(m.inputShape).toEqual([4]);
  });

  it('refuses what cannot be read, with one-line ModelLoadErrors', async () => {
    await expect(loadModel(fixture('missing.onnx'))).rejects.toThrow(ModelLoadError);
    const truncated = readFileSync(fixture('pytorch-style.onnx')).subarray(0, 1000);
    await expect(loadModel({ bytes: truncated, id: 't' })).rejects.toThrow(/truncated or corrupt/);
    await expect(loadModel(fixture('external/escape-parent/model.onnx'))).rejects.toThrow(/leaves the model's folder/);
  });

  it('refuses a tfjs model.json (or a folder holding one), pointing at @blameboard/tfjs', async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'bb-tfjs-folder-'));
    writeFileSync(path.join(folder, 'model.json'), '{}');
    for (const source of [fixture('no-such-dir/model.json'), path.join(folder, 'model.json'), folder]) {
      const e = await loadModel(source).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(ModelLoadError);
      expect((e as Error).message).toBe(`'${source}' is a TensorFlow.js model: @blameboard/core reads ONNX only; load it with loadTfjsModel from @blameboard/tfjs (the blameboard CLI does this itself)`);
    }
    rmSync(folder, { recursive: true });
  });

  it('records the file bytes came from', async () => {
    const m = await loadModel({ bytes: readFileSync(fixture('mlp.onnx')), id: 'mem', file: 'converted/model.json' });
    expect(m.source).toBe('converted/model.json');
  });
});

describe('validateInputs and validateTargets', () => {
  it('names the shape mismatch', async () => {
    const m = await loadModel(fixture('pytorch-style.onnx'));
    expect(() => validateInputs(m, randn([2, 3, 8, 7]))).toThrow(InputError);
    expect(() => validateInputs(m, randn([2, 3, 8, 7]))).toThrow("inputs have shape [2,3,8,7] but model '" + m.id + "' expects [N,3,8,8]");
    expect(() => validateInputs(m, randn([2, 192]))).toThrow(/expects \[N,3,8,8\]/);
    expect(() => validateInputs(m, { dtype: 'float64', shape: [1, 3, 8, 8], data: new Float64Array(192) })).toThrow(/inputs are float64 but .* expects float32/);
    expect(() => validateInputs(m, randn([0, 3, 8, 8]))).toThrow(/no samples/);
    expect(() => validateInputs(m, randn([2, 3, 8, 8]))).not.toThrow();
  });

  it('names the first NaN or Inf', async () => {
    const m = await loadModel(fixture('pytorch-style.onnx'));
    const x = randn([3, 3, 8, 8]);
    const flat = 192 + 2 * 64 + 5 * 8 + 6; // sample 1, channel 2, row 5, column 6
    (x.data as Float32Array)[flat] = NaN;
    (x.data as Float32Array)[flat + 100] = Infinity;
    expect(() => validateInputs(m, x)).toThrow(`inputs contain NaN at sample 1, position [2,5,6] (flat index ${flat})`);
    (x.data as Float32Array)[flat] = 0;
    expect(() => validateInputs(m, x)).toThrow(/Infinity at sample 2/);
    await expect(forward(m, x)).rejects.toThrow(InputError);
  });

  it('finds a non-finite value at any position and passes extreme finite ones', async () => {
    const m = await loadModel(fixture('pytorch-style.onnx'));
    const x = randn([2, 3, 8, 8]);
    const d = x.data as Float32Array;
    d[0] = 3.4e38;
    d[1] = -3.4e38;
    d[2] = -0;
    d[3] = 1e-45;
    expect(() => validateInputs(m, x)).not.toThrow();
    for (const flat of [0, 1, 2, 3, 4, 5, 6, 7, d.length - 1]) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const keep = d[flat];
        d[flat] = bad;
        expect(() => validateInputs(m, x)).toThrow(`(flat index ${flat})`);
        d[flat] = keep;
      }
    }
  });

  it('refuses out-of-range targets and a count mismatch', async () => {
    const m = await loadModel(fixture('mlp.onnx'));
    expect(() => validateTargets(m, Int32Array.of(0, 2, 1), 3)).not.toThrow();
    expect(() => validateTargets(m, Int32Array.of(0, 3), 2)).toThrow('target 3 at sample 1 is out of range');
    expect(() => validateTargets(m, Int32Array.of(-1), 1)).toThrow(InputError);
    expect(() => validateTargets(m, Int32Array.of(0), 2)).toThrow('got 1 targets for 2 samples');
  });
});
