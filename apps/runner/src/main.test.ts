import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { float32, loadNpy, OnnxSession, saveNpy, tensor, writeOnnx, readOnnx } from '@blameboard/core';
import { loadDataset } from '@blameboard/datasets';
import { getZooEntry } from '@blameboard/models';
import { readFileSync } from 'node:fs';
import { runCli, scratchDir } from './test-utils.js';

const FLOORS: Record<string, { field: 'testAccuracy' | 'r2'; floor: number }> = {
  'mnist-mlp': { field: 'testAccuracy', floor: 0.97 },
  'mnist-cnn': { field: 'testAccuracy', floor: 0.985 },
  'mnist-bn-cnn': { field: 'testAccuracy', floor: 0.98 },
  'synthetic-mlp': { field: 'r2', floor: 0.99 },
};

async function mnistInputs(dir: string, n: number): Promise<string> {
  const ds = await loadDataset('mnist', { split: 'test', count: n, seed: 1, layout: 'nchw' });
  const path = join(dir, 'x.npy');
  saveNpy(path, ds.inputs);
  return path;
}

async function ortLogits(file: string, x: ReturnType<typeof loadNpy>) {
  const session = await OnnxSession.create(readFileSync(file));
  const out = await session.run({ [session.inputNames[0]]: x });
  await session.dispose();
  return out[session.outputNames[0]];
}

describe('blameboard list', () => {
  it('lists every zoo model with its card, each at or above its accuracy floor', async () => {
    const run = await runCli('list', 'models', '--json');
    expect(run.code).toBe(0);
    const rows = JSON.parse(run.stdout) as Record<string, unknown>[];
    for (const [id, { field, floor }] of Object.entries(FLOORS)) {
      const row = rows.find((r) => r.id === id);
      expect(row, id).toBeDefined();
      expect(row![field] as number, id).toBeGreaterThanOrEqual(floor);
    }
    expect(rows.find((r) => r.id === 'mnist-cnn')).toHaveProperty('testAccuracy');
  });

  it('lists methods, metrics and datasets, and refuses an unknown kind', async () => {
    for (const kind of ['methods', 'metrics', 'datasets']) {
      const run = await runCli('list', kind, '--json');
      expect(run.code).toBe(0);
      expect((JSON.parse(run.stdout) as unknown[]).length).toBeGreaterThan(0);
    }
    const bad = await runCli('list', 'frobs');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/methods, metrics, datasets, models/);
    expect(bad.stderr.split('\n')).toHaveLength(1);
  });
});

describe('blameboard predict', () => {
  it('writes the logits onnxruntime computes, for a zoo id and for an ONNX path', async () => {
    const dir = scratchDir();
    const inputs = await mnistInputs(dir, 16);
    const entry = getZooEntry('mnist-cnn');
    const expected = await ortLogits(entry.file, loadNpy(inputs));
    for (const model of ['mnist-cnn', entry.file]) {
      const out = join(dir, 'logits.npy');
      const run = await runCli('predict', '--model', model, '--inputs', inputs, '--out', out);
      expect(run.code, run.stderr).toBe(0);
      const got = loadNpy(out);
      expect(got.shape).toEqual([16, 10]);
      expect(Array.from(got.data as Float32Array)).toEqual(Array.from(expected.data as Float32Array));
    }
  });

  it('runs a tfjs model.json like the ONNX export of the same model', async () => {
    const dir = scratchDir();
    const inputs = await mnistInputs(dir, 8);
    const entry = getZooEntry('mnist-cnn');
    const modelJson = join(dirname(entry.file), 'tfjs', 'mnist-cnn', 'model.json');
    const run = await runCli('predict', '--model', modelJson, '--inputs', inputs, '--out', join(dir, 'tfjs.npy'));
    expect(run.code, run.stderr).toBe(0);
    const expected = (await ortLogits(entry.file, loadNpy(inputs))).data as Float32Array;
    const got = loadNpy(join(dir, 'tfjs.npy')).data as Float32Array;
    expected.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThanOrEqual(1e-4));
  });

  it('refuses NaN inputs and a wrong shape with one line and exit 2, writing nothing', async () => {
    const dir = scratchDir();
    const nan = float32([2, 1, 28, 28]);
    nan.data[100] = Number.NaN;
    saveNpy(join(dir, 'nan.npy'), nan);
    saveNpy(join(dir, 'shape.npy'), float32([2, 784]));
    for (const [file, pattern] of [
      ['nan.npy', /NaN/],
      ['shape.npy', /shape/],
    ] as const) {
      const out = join(dir, `${file}.out.npy`);
      const run = await runCli('predict', '--model', 'mnist-cnn', '--inputs', join(dir, file), '--out', out);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(pattern);
      expect(run.stderr.split('\n')).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('runs within --memory, and refuses a budget or batch size that cannot fit, in one line, writing nothing', async () => {
    const dir = scratchDir();
    const inputs = await mnistInputs(dir, 8);
    const ok = join(dir, 'ok.npy');
    expect((await runCli('explain', '--model', 'mnist-cnn', '--inputs', inputs, '--method', 'gradient', '--out', ok, '--memory', '1G')).code).toBe(0);
    const plain = join(dir, 'plain.npy');
    expect((await runCli('explain', '--model', 'mnist-cnn', '--inputs', inputs, '--method', 'gradient', '--out', plain)).code).toBe(0);
    expect(loadNpy(ok).data).toEqual(loadNpy(plain).data);
    for (const [args, pattern] of [
      [['--memory', '64M'], /memory budget of 64M cannot run this model: one row needs about .*; give --memory/],
      [['--memory', '1G', '--batch-size', '100000'], /batch size of 100000 needs about .* more than the memory budget of 1G/],
      [['--memory', 'lots'], /--memory must be a size such as 4G, 512M or 50%/],
      [['--memory', '0%'], /--memory must be a percentage/],
    ] as const) {
      const out = join(dir, 'refused.npy');
      const run = await runCli('explain', '--model', 'mnist-cnn', '--inputs', inputs, '--method', 'integrated-gradients', '--targets', '3', '--out', out, ...args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(pattern);
      expect(run.stderr.split('\n')).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('keeps compiled graphs in the user’s cache folder (XDG_CACHE_HOME), or where BLAMEBOARD_CACHE_DIR says', async () => {
    const dir = scratchDir();
    const inputs = await mnistInputs(dir, 4);
    const saved = { cache: process.env.BLAMEBOARD_CACHE_DIR, xdg: process.env.XDG_CACHE_HOME };
    try {
      delete process.env.BLAMEBOARD_CACHE_DIR;
      process.env.XDG_CACHE_HOME = join(dir, 'xdg');
      // A configuration no other test compiles, so this process has not cached it in memory.
      const params = JSON.stringify({ composite: 'epsilon', epsilon: 0.0123 });
      const run = await runCli('explain', '--model', 'mnist-cnn', '--inputs', inputs, '--method', 'lrp', '--params', params, '--out', join(dir, 'a.npy'));
      expect(run.code).toBe(0);
      const files = readdirSync(join(dir, 'xdg', 'blameboard', 'compiled'));
      expect(files.filter((f) => f.endsWith('.onnx'))).toHaveLength(1);
      expect(files.filter((f) => f.endsWith('.json'))).toHaveLength(1);

      process.env.BLAMEBOARD_CACHE_DIR = join(dir, 'elsewhere');
      const other = JSON.stringify({ composite: 'epsilon', epsilon: 0.0124 });
      expect((await runCli('explain', '--model', 'mnist-cnn', '--inputs', inputs, '--method', 'lrp', '--params', other, '--out', join(dir, 'b.npy'))).code).toBe(0);
      expect(readdirSync(join(dir, 'elsewhere'))).toHaveLength(2);
      expect(readdirSync(join(dir, 'xdg', 'blameboard', 'compiled'))).toHaveLength(2);
    } finally {
      if (saved.cache === undefined) delete process.env.BLAMEBOARD_CACHE_DIR;
      else process.env.BLAMEBOARD_CACHE_DIR = saved.cache;
      if (saved.xdg === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved.xdg;
    }
  });

  it('refuses a truncated model file with one line', async () => {
    const dir = scratchDir();
    const bytes = readFileSync(getZooEntry('mnist-mlp').file);
    writeFileSync(join(dir, 'cut.onnx'), bytes.subarray(0, bytes.length >> 1));
    saveNpy(join(dir, 'x.npy'), float32([1, 784]));
    const run = await runCli('predict', '--model', join(dir, 'cut.onnx'), '--inputs', join(dir, 'x.npy'), '--out', join(dir, 'o.npy'));
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')).toHaveLength(1);
  });

  it('shows a stack only with --debug', async () => {
    const plain = await runCli('predict', '--model', '/nonexistent.onnx', '--inputs', 'x.npy', '--out', 'o.npy');
    const debug = await runCli('predict', '--model', '/nonexistent.onnx', '--inputs', 'x.npy', '--out', 'o.npy', '--debug');
    expect(plain.code).toBe(2);
    expect(plain.stderr.split('\n')).toHaveLength(1);
    expect(debug.stderr.split('\n').length).toBeGreaterThan(1);
  });
});

describe('blameboard usage errors', () => {
  it('refuses an unknown command and a missing flag', async () => {
    expect((await runCli('frobnicate')).code).toBe(2);
    const run = await runCli('predict', '--model', 'mnist-cnn');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--out is required/);
  });

  it('refuses to train an unknown model, naming the zoo', async () => {
    const run = await runCli('train', 'no-such-model');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/mnist-cnn/);
    expect(run.stderr.split('\n')).toHaveLength(1);
  });

  it('refuses an unknown zoo id, listing the known ones', async () => {
    const run = await runCli('predict', '--model', 'no-such-model', '--inputs', 'x.npy', '--out', 'o.npy');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/mnist-cnn/);
  });
});

// Keeps the IR writer in the loop: a model written by Blameboard itself predicts like the original.
describe('blameboard predict on a rewritten model', () => {
  it('gives the same logits for a written copy of a zoo model', async () => {
    const dir = scratchDir();
    const entry = getZooEntry('mnist-mlp');
    const copy = join(dir, 'copy.onnx');
    writeFileSync(copy, writeOnnx(readOnnx(readFileSync(entry.file))));
    const x = tensor('float32', [3, 784], new Float32Array(3 * 784).map((_, i) => (i % 7) / 7));
    saveNpy(join(dir, 'x.npy'), x);
    const a = await runCli('predict', '--model', entry.file, '--inputs', join(dir, 'x.npy'), '--out', join(dir, 'a.npy'));
    const b = await runCli('predict', '--model', copy, '--inputs', join(dir, 'x.npy'), '--out', join(dir, 'b.npy'));
    expect(a.code + b.code).toBe(0);
    expect(Array.from(loadNpy(join(dir, 'b.npy')).data as Float32Array)).toEqual(
      Array.from(loadNpy(join(dir, 'a.npy')).data as Float32Array),
    );
  });
});
