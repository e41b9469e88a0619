import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { disposeSessions, float32, loadNpy, OnnxSession, saveNpy, writeOnnx, type Dim, type IrGraph, type IrNode, type Tensor } from '@blameboard/core';
import { runCli, scratchDir, writeOverflowModel } from '../test-utils.js';

/** Regression tests of the failure classes of issue 9 point 4 that the hostile-input run found. */

afterAll(() => disposeSessions());
afterEach(() => vi.restoreAllMocks());

const W = Array.from({ length: 18 }, (_, i) => ((i * 7) % 11) / 11 - 0.4);

/** x [batch, features] → MatMul W [features, 3] → y. */
function dense(batch: Dim, features: Dim = 6, weights: number[] = W, extra: Partial<IrGraph> = {}): IrGraph {
  const f = typeof features === 'number' ? features : 6;
  return {
    name: 'dense',
    irVersion: 8,
    opsetVersion: 13,
    producerName: 'blameboard-test',
    inputs: [{ name: 'x', dtype: 'float32', shape: [batch, features] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [batch, 3] }],
    initializers: new Map([['W', float32([f, 3], weights.slice(0, f * 3))]]),
    nodes: [{ name: 'mm', opType: 'MatMul', domain: '', inputs: ['x', 'W'], outputs: ['y'], attributes: {} }],
    values: new Map(),
    ...extra,
  };
}

function setup(graph: IrGraph, x: Tensor): { dir: string; model: string; inputs: string } {
  const dir = scratchDir();
  writeFileSync(join(dir, 'model.onnx'), writeOnnx(graph));
  saveNpy(join(dir, 'x.npy'), x);
  return { dir, model: join(dir, 'model.onnx'), inputs: join(dir, 'x.npy') };
}

const rows = (n: number, features = 6) => float32([n, features], Array.from({ length: n * features }, (_, i) => ((i % 5) - 2) / 4));

describe('shapes come from outside', () => {
  it('refuses a fixed batch of 0, 2¹⁷ or 2⁴⁰ rows at load with one line, and reads a batch of −1 as any batch', async () => {
    for (const batch of [0, 2 ** 17, 2 ** 40]) {
      const { dir, model, inputs } = setup(dense(batch), rows(16));
      const run = await runCli('predict', '--model', model, '--inputs', inputs, '--out', join(dir, 'y.npy'));
      expect(run.code, String(batch)).toBe(2);
      expect(run.stderr).toBe(
        `blameboard predict: the input 'x' of '${model}' fixes its batch at ${batch} rows; Blameboard runs a fixed batch of 1 to 1024 rows (padding every run to it): re-export the model with a variable batch axis`,
      );
      expect(readdirSync(dir).sort()).toEqual(['model.onnx', 'x.npy']);
    }
    const { dir, model, inputs } = setup(dense(-1), rows(16));
    const run = await runCli('predict', '--model', model, '--inputs', inputs, '--out', join(dir, 'y.npy'));
    expect(run.code, run.stderr).toBe(0);
    const y = loadNpy(join(dir, 'y.npy'));
    const x = rows(16).data as Float32Array;
    expect(y.shape).toEqual([16, 3]);
    for (let r = 0; r < 16; r++) {
      for (let c = 0; c < 3; c++) {
        let want = 0;
        for (let k = 0; k < 6; k++) want += x[r * 6 + k] * W[k * 3 + c];
        expect((y.data as Float32Array)[r * 3 + c]).toBeCloseTo(want, 5);
      }
    }
  });

  it('refuses an input declared [N, 2³¹] before allocating anything, and checks the user\u2019s inputs against a [N, 10⁸] model without running it', async () => {
    const run = vi.spyOn(OnnxSession.prototype, 'run');
    // y = mean of x over its features: a model of any width, sized by onnxruntime's inference.
    const mean = (features: number): IrGraph => ({
      ...dense('N'),
      inputs: [{ name: 'x', dtype: 'float32', shape: ['N', features] }],
      initializers: new Map(),
      nodes: [{ name: 'mean', opType: 'ReduceMean', domain: '', inputs: ['x'], outputs: ['y'], attributes: { axes: { type: 'ints', value: [1] } } }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['N', '?'] }],
    });
    const wide = setup(mean(2 ** 31), rows(4, 1));
    const refused = await runCli('predict', '--model', wide.model, '--inputs', wide.inputs, '--out', join(wide.dir, 'y.npy'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`blameboard predict: one sample of the input 'x' of '${wide.model}' ([2147483648] float32) is 8G, more than the 2G an input file may hold`);
    // 10⁸ features (400 MB a row) is a shape a model may have: nothing runs before the inputs
    // are found not to fit (a probe run used to allocate the row first).
    const big = mean(1e8);
    const tall = setup(big, rows(4, 1));
    const mismatch = await runCli('predict', '--model', tall.model, '--inputs', tall.inputs, '--out', join(tall.dir, 'y.npy'));
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toBe(`blameboard predict: inputs have shape [4,1] but model '${tall.model}' expects [N,100000000]`);
    expect(run).not.toHaveBeenCalled();
  });

  it('runs a model whose output size only a run can tell once, charged against the memory budget', async () => {
    // y = Reshape(x, [-1, max(|x|·0 + 6)]): the second dimension depends on the data.
    const nodes: IrNode[] = [
      { name: 'abs', opType: 'Abs', domain: '', inputs: ['x'], outputs: ['a'], attributes: {} },
      { name: 'zero', opType: 'Mul', domain: '', inputs: ['a', 'zero'], outputs: ['z'], attributes: {} },
      { name: 'six', opType: 'Add', domain: '', inputs: ['z', 'six'], outputs: ['s'], attributes: {} },
      { name: 'max', opType: 'ReduceMax', domain: '', inputs: ['s'], outputs: ['m'], attributes: { keepdims: { type: 'int', value: 0 } } },
      { name: 'one', opType: 'Reshape', domain: '', inputs: ['m', 'one'], outputs: ['m1'], attributes: {} },
      { name: 'cast', opType: 'Cast', domain: '', inputs: ['m1'], outputs: ['c'], attributes: { to: { type: 'int', value: 7 } } },
      { name: 'shape', opType: 'Concat', domain: '', inputs: ['minus1', 'c'], outputs: ['shape'], attributes: { axis: { type: 'int', value: 0 } } },
      { name: 'reshape', opType: 'Reshape', domain: '', inputs: ['x', 'shape'], outputs: ['y'], attributes: {} },
    ];
    const graph: IrGraph = {
      ...dense('N'),
      nodes,
      initializers: new Map<string, Tensor>([
        ['zero', float32([], [0])],
        ['six', float32([], [6])],
        ['one', { dtype: 'int64', shape: [1], data: BigInt64Array.of(1n) }],
        ['minus1', { dtype: 'int64', shape: [1], data: BigInt64Array.of(-1n) }],
      ]),
      outputs: [{ name: 'y', dtype: 'float32', shape: ['N', '?'] }],
    };
    const { dir, model, inputs } = setup(graph, rows(3));
    const ok = await runCli('predict', '--model', model, '--inputs', inputs, '--out', join(dir, 'y.npy'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(loadNpy(join(dir, 'y.npy')).data).toEqual(rows(3).data);
    vi.stubEnv('BLAMEBOARD_MEMORY', '1M');
    try {
      await disposeSessions();
      const copy = join(dir, 'copy.onnx');
      writeFileSync(copy, writeOnnx({ ...graph, name: 'copy' }));
      const refused = await runCli('predict', '--model', copy, '--inputs', inputs, '--out', join(dir, 'z.npy'));
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/^blameboard predict: '.*copy\.onnx' declares no output shape, and running 1 row to find it needs about [\d.]+M, more than the memory budget of 1M$/);
      expect(existsSync(join(dir, 'z.npy'))).toBe(false);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('non-finite numbers', () => {
  it('refuses NaN or infinite weights at load, naming the initializer; a single ±Infinity (a bound) is kept', async () => {
    for (const [bad, what] of [
      [NaN, '1 NaN'],
      [Infinity, '1 infinite'],
      [-Infinity, '1 infinite'],
    ] as const) {
      const weights = [...W];
      weights[4] = bad;
      const { dir, model, inputs } = setup(dense('N', 6, weights), rows(2));
      const run = await runCli('explain', '--model', model, '--inputs', inputs, '--method', 'gradient', '--out', join(dir, 'a.npy'));
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(`blameboard explain: initializer 'W' holds ${what} of its 18 values (first at flat index 4); a model's weights must be finite`);
      expect(readdirSync(dir).sort()).toEqual(['model.onnx', 'x.npy']);
    }
    // Clip(x·W, -∞, 0.5): an infinite bound given as a one-value initializer is a bound, not a weight.
    const clipped: IrGraph = {
      ...dense('N'),
      initializers: new Map([
        ['W', float32([6, 3], W)],
        ['lo', float32([], [-Infinity])],
        ['hi', float32([], [0.5])],
      ]),
      nodes: [
        { name: 'mm', opType: 'MatMul', domain: '', inputs: ['x', 'W'], outputs: ['h'], attributes: {} },
        { name: 'clip', opType: 'Clip', domain: '', inputs: ['h', 'lo', 'hi'], outputs: ['y'], attributes: {} },
      ],
    };
    const { dir, model, inputs } = setup(clipped, rows(2));
    const run = await runCli('predict', '--model', model, '--inputs', inputs, '--out', join(dir, 'y.npy'));
    expect(run.code, run.stderr).toBe(0);
    expect(Math.max(...(loadNpy(join(dir, 'y.npy')).data as Float32Array))).toBeLessThanOrEqual(0.5);
  });

  it('explain refuses attributions that overflow to ±Infinity with exit 2, naming the samples and writing nothing', async () => {
    const dir = scratchDir();
    writeOverflowModel(dir, 7);
    const args = ['--model', join(dir, 'overflow.onnx'), '--inputs', join(dir, 'x.npy'), '--targets', '0', '--out', join(dir, 'a.npy')];
    const run = await runCli('explain', ...args, '--method', 'integrated-gradients', '--params', '{"baseline": 3e38, "steps": 4}');
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "blameboard explain: the attributions of 'integrated-gradients' hold 42 Inf in samples 0, 1, 2, 3, 4, … (7 of 7); nothing written (a float32 overflow or a NaN inside the model: check the parameters, e.g. the baseline, and the scale of the inputs)",
    );
    expect(readdirSync(dir).sort()).toEqual(['overflow.onnx', 'x.npy']);
    // The same model and inputs explain fine with a baseline in range.
    const fine = await runCli('explain', ...args, '--method', 'integrated-gradients', '--params', '{"baseline": 0, "steps": 4}');
    expect(fine.code, fine.stderr).toBe(0);
  });

  it('predict refuses logits that overflow to ±Infinity with exit 2, writing nothing', async () => {
    const { dir, model, inputs } = setup(dense('N', 6, W.map((w) => w * 1e30)), float32([2, 6], [1e10, 1e10, 1e10, 1e10, 1e10, 1e10, 1, 1, 1, 1, 1, 1]));
    const run = await runCli('predict', '--model', model, '--inputs', inputs, '--out', join(dir, 'y.npy'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^blameboard predict: the model's logits hold \d+ Inf in sample 0 \(1 of 2\); nothing written/);
    expect(readdirSync(dir).sort()).toEqual(['model.onnx', 'x.npy']);
  });
});

describe('sweep configs', () => {
  it('refuses a grid that expands past 10,000 configurations before building it', async () => {
    const dir = scratchDir();
    const values = Array.from({ length: 300 }, (_, i) => i / 300);
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify({ models: ['mnist-mlp'], methods: [{ method: 'lrp', params: { gamma: values, epsilon: values, alpha: values } }], metrics: [{ metric: 'sparseness' }] }));
    const run = await runCli('sweep', '--config', join(dir, 'sweep.json'), '--out', join(dir, 'out'));
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('blameboard sweep: sweep config /methods/0/params: the grid expands to 27000000 configurations; a sweep takes at most 10000 method configurations');
    expect(readdirSync(dir)).toEqual(['sweep.json']);
  });

  it('leaves no empty output folder behind when a sweep is refused before computing anything', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify({ models: [{ path: 'model.onnx', inputs: 'missing.npy' }], methods: [{ method: 'gradient' }], metrics: [{ metric: 'sparseness' }] }));
    writeFileSync(join(dir, 'model.onnx'), writeOnnx(dense('N')));
    const run = await runCli('sweep', '--config', join(dir, 'sweep.json'), '--out', join(dir, 'out'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^blameboard sweep: .*missing\.npy/);
    expect(readdirSync(dir).sort()).toEqual(['model.onnx', 'sweep.json']);
  });
});

describe('damaged sweep folders', () => {
  async function sweepFolder(): Promise<{ dir: string; out: string }> {
    const dir = scratchDir();
    writeFileSync(join(dir, 'model.onnx'), writeOnnx(dense('N')));
    saveNpy(join(dir, 'x.npy'), rows(3));
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify({ models: [{ path: 'model.onnx', inputs: 'x.npy' }], methods: [{ method: 'gradient' }], metrics: [{ metric: 'sparseness' }] }));
    const out = join(dir, 'out');
    const run = await runCli('sweep', '--config', join(dir, 'sweep.json'), '--out', out);
    expect(run.code, run.stderr).toBe(0);
    return { dir, out };
  }

  it('merge never reads a run.json that links to /dev/zero nor copies a cache entry that is a FIFO, and a failed merge leaves nothing behind', async () => {
    const { dir, out } = await sweepFolder();
    const metric = readdirSync(join(out, 'cache/metrics'))[0];
    rmSync(join(out, 'cache/metrics', metric));
    execFileSync('mkfifo', [join(out, 'cache/metrics', metric)]);
    const fifo = await runCli('merge', out, '--out', join(dir, 'merged'));
    expect(fifo.code).toBe(2);
    expect(fifo.stderr).toMatch(/^blameboard merge: .* lacks 1 result \(first: gradient \/ sparseness\); finish the sweep with --resume/);
    rmSync(join(out, 'run.json'));
    symlinkSync('/dev/zero', join(out, 'run.json'));
    const zero = await runCli('merge', out, '--out', join(dir, 'merged'));
    expect(zero.code).toBe(2);
    expect(zero.stderr).toBe('blameboard merge: none of the shard folders has a run record (run.json): were the shards finished?');
    expect(readdirSync(dir).sort()).toEqual(['model.onnx', 'out', 'sweep.json', 'x.npy']);
  });

  it('takes a cache record of the wrong shape as missing, never as a crash', async () => {
    const { dir, out } = await sweepFolder();
    const metric = join(out, 'cache/metrics', readdirSync(join(out, 'cache/metrics'))[0]);
    const record = JSON.parse(readFileSync(metric, 'utf8'));
    writeFileSync(metric, JSON.stringify({ ...record, values: { gini: null } }));
    const merged = await runCli('merge', out, '--out', join(dir, 'merged'));
    expect(merged.code).toBe(2);
    expect(merged.stderr).toMatch(/lacks 1 result/);
    // --resume recomputes it.
    const resumed = await runCli('sweep', '--config', join(dir, 'sweep.json'), '--out', out, '--resume');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(readFileSync(metric, 'utf8')).values.gini.perSample).toHaveLength(3);
  });
});
