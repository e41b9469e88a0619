import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { float32, loadModel, loadNpy, saveNpy, sizeOf, tensor } from '@blameboard/core';
import { runCli, scratchDir } from './test-utils.js';

const CORE_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../packages/core/fixtures');
const REFERENCE = join(CORE_FIXTURES, 'reference');

interface VectorCase {
  model: string;
  input: unknown;
  target: number;
  method: string;
  params: Record<string, unknown>;
  expected: unknown;
  atol: number;
}

const vectors = JSON.parse(readFileSync(join(REFERENCE, 'vectors.json'), 'utf8')) as { cases: VectorCase[] };

function nested(value: unknown): { shape: number[]; data: number[] } {
  const shape: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return { shape, data: (value as unknown[]).flat(Infinity) as number[] };
}

describe('blameboard explain reproduces the Captum reference vectors', () => {
  it.each(vectors.cases.map((c, i) => [`${i}: ${c.method} on ${c.model}`, c] as const))('%s', async (_name, c) => {
    const dir = scratchDir();
    const input = nested(c.input);
    saveNpy(join(dir, 'x.npy'), float32(input.shape, input.data));
    const out = join(dir, 'a.npy');
    const run = await runCli(
      'explain', '--model', join(REFERENCE, c.model), '--inputs', join(dir, 'x.npy'),
      '--targets', String(c.target), '--method', c.method, '--params', JSON.stringify(c.params), '--out', out,
    );
    expect(run.code, run.stderr).toBe(0);
    const got = loadNpy(out);
    const expected = nested(c.expected);
    expect(got.dtype).toBe('float32');
    expect(got.shape).toEqual(input.shape);
    for (let i = 0; i < expected.data.length; i++) {
      expect(Math.abs((got.data[i] as number) - expected.data[i]), `element ${i}`).toBeLessThanOrEqual(c.atol);
    }
  });
});

describe('blameboard explain targets and refusals', () => {
  const model = join(REFERENCE, 'simple-lrp.onnx');

  function inputs(dir: string): string {
    saveNpy(join(dir, 'x.npy'), float32([2, 3], [1, 2, 3, 3, 6, 9]));
    return join(dir, 'x.npy');
  }

  it('reads targets as a file, an integer, or predicted, with the same result for the same class', async () => {
    const dir = scratchDir();
    const x = inputs(dir);
    saveNpy(join(dir, 't.npy'), tensor('int64', [2], BigInt64Array.from([0n, 0n])));
    const results: number[][] = [];
    for (const targets of [join(dir, 't.npy'), '0', 'predicted']) {
      const out = join(dir, `a-${results.length}.npy`);
      const run = await runCli('explain', '--model', model, '--inputs', x, '--targets', targets, '--method', 'gradient', '--out', out);
      expect(run.code, run.stderr).toBe(0);
      results.push(Array.from(loadNpy(out).data as Float32Array));
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it('refuses an out-of-range target, an unknown method and an unknown parameter, listing what is known', async () => {
    const dir = scratchDir();
    const x = inputs(dir);
    const out = join(dir, 'a.npy');
    const range = await runCli('explain', '--model', model, '--inputs', x, '--targets', '7', '--method', 'gradient', '--out', out);
    expect(range.code).toBe(2);
    expect(range.stderr).toMatch(/target/i);
    const method = await runCli('explain', '--model', model, '--inputs', x, '--method', 'gradiant', '--out', out);
    expect(method.code).toBe(2);
    expect(method.stderr).toMatch(/integrated-gradients/);
    const param = await runCli('explain', '--model', model, '--inputs', x, '--method', 'integrated-gradients', '--params', '{"stepz": 3}', '--out', out);
    expect(param.code).toBe(2);
    expect(param.stderr).toMatch(/steps/);
    for (const run of [range, method, param]) expect(run.stderr.split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it('names the operators a compiled method cannot handle, while occlusion still runs', async () => {
    const dir = scratchDir();
    const unsupported = join(CORE_FIXTURES, 'unsupported-op.onnx');
    const m = await loadModel(unsupported);
    expect(m.unsupported.length).toBeGreaterThan(0);
    const x = float32([2, ...m.inputShape], Array.from({ length: 2 * sizeOf(m.inputShape) }, (_, i) => ((i * 37) % 11) / 11));
    saveNpy(join(dir, 'x.npy'), x);
    const refused = await runCli('explain', '--model', unsupported, '--inputs', join(dir, 'x.npy'), '--targets', '0', '--method', 'gradient', '--out', join(dir, 'g.npy'));
    expect(refused.code).toBe(2);
    for (const op of m.unsupported) expect(refused.stderr).toContain(op.opType);
    const occlusion = await runCli('explain', '--model', unsupported, '--inputs', join(dir, 'x.npy'), '--targets', '0', '--method', 'occlusion', '--params', '{"window": 1}', '--out', join(dir, 'o.npy'));
    expect(occlusion.code, occlusion.stderr).toBe(0);
    expect(loadNpy(join(dir, 'o.npy')).shape).toEqual(x.shape);
  });

  it('writes bias relevance beside the attribution with bias: explicit', async () => {
    const dir = scratchDir();
    const x = inputs(dir);
    const ok = await runCli(
      'explain', '--model', model, '--inputs', x, '--method', 'lrp', '--targets', '0',
      '--params', '{"composite": "epsilon", "bias": "explicit"}', '--out', join(dir, 'a.npy'), '--bias-out', join(dir, 'b.json'),
    );
    expect(ok.code, ok.stderr).toBe(0);
    const bias = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')) as { biasRelevance: { layer: string; perSample: number[] }[] };
    expect(bias.biasRelevance.length).toBeGreaterThan(0);
    expect(bias.biasRelevance[0].perSample).toHaveLength(2);
  });
});

describe('blameboard evaluate', () => {
  it('writes the SPEC §6 format for selectivity on given attributions', async () => {
    const dir = scratchDir();
    const model = join(REFERENCE, 'simple-lrp.onnx');
    saveNpy(join(dir, 'x.npy'), float32([2, 3], [1, 2, 3, 3, 6, 9]));
    const explained = await runCli('explain', '--model', model, '--inputs', join(dir, 'x.npy'), '--method', 'gradient-x-input', '--targets', '0', '--out', join(dir, 'a.npy'));
    expect(explained.code, explained.stderr).toBe(0);
    const run = await runCli(
      'evaluate', '--model', model, '--inputs', join(dir, 'x.npy'), '--targets', '0', '--attributions', join(dir, 'a.npy'),
      '--metric', 'selectivity', '--params', '{"steps": 3, "fill": "zero", "output": "logit"}', '--out', join(dir, 'm.json'),
    );
    expect(run.code, run.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8'));
    expect(m.metric).toBe('selectivity');
    for (const name of ['abpc', 'aopcMorf', 'aopcLerf']) {
      expect(m.values[name].perSample).toHaveLength(2);
      expect(['higher', 'lower']).toContain(m.values[name].direction);
      expect(m.values[name].ci95).toHaveLength(2);
    }
    expect(m.curves.morf).toHaveLength(2);
    expect(m.curves.morf[0]).toHaveLength(4);
  });

  it('re-explains with --method and refuses an unknown metric listing the known ones', async () => {
    const dir = scratchDir();
    const model = join(REFERENCE, 'simple-lrp.onnx');
    saveNpy(join(dir, 'x.npy'), float32([2, 3], [1, 2, 3, 3, 6, 9]));
    const ok = await runCli('evaluate', '--model', model, '--inputs', join(dir, 'x.npy'), '--targets', '0', '--method', 'uniform', '--metric', 'conservation', '--out', join(dir, 'c.json'));
    expect(ok.code, ok.stderr).toBe(0);
    const c = JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8'));
    expect(c.values.relativeError.mean).toBeLessThan(1e-5);
    const bad = await runCli('evaluate', '--model', model, '--inputs', join(dir, 'x.npy'), '--method', 'uniform', '--metric', 'selectiviti', '--out', join(dir, 'd.json'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/selectivity/);
    expect(existsSync(join(dir, 'd.json'))).toBe(false);
  });
});

describe("blame's reference dataset", () => {
  it('loads the named dataset as the prior, and refuses one that does not fit the model', async () => {
    const dir = scratchDir();
    const { loadDataset } = await import('@blameboard/datasets');
    saveNpy(join(dir, 'x.npy'), (await loadDataset('mnist', { split: 'test', count: 4, seed: 2, layout: 'flat' })).inputs);
    const args = (params: string, out: string) =>
      ['explain', '--model', 'mnist-mlp', '--inputs', join(dir, 'x.npy'), '--method', 'blame', '--params', params, '--out', join(dir, out)];
    const zooDefault = await runCli(...args('{}', 'a.npy'));
    const named = await runCli(...args('{"reference": "mnist"}', 'b.npy'));
    const ownPrior = await runCli(...args('{"prior": "prediction"}', 'c.npy'));
    expect([zooDefault.code, named.code, ownPrior.code]).toEqual([0, 0, 0]);
    // The zoo model's own context is the same 1,000 mnist training samples: the same prior.
    expect(Array.from(loadNpy(join(dir, 'b.npy')).data as Float32Array)).toEqual(Array.from(loadNpy(join(dir, 'a.npy')).data as Float32Array));
    expect(Array.from(loadNpy(join(dir, 'c.npy')).data as Float32Array)).not.toEqual(Array.from(loadNpy(join(dir, 'a.npy')).data as Float32Array));
    const misfit = await runCli(...args('{"reference": "synthetic-linear"}', 'd.npy'));
    expect(misfit.code).toBe(2);
    expect(misfit.stderr).toMatch(/reference dataset 'synthetic-linear'/);
    const unknown = await runCli(...args('{"reference": "imagenet"}', 'e.npy'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/mnist/);
  });
});

describe('bad flags and unwritable outputs', () => {
  const model = join(REFERENCE, 'simple-lrp.onnx');

  function setup() {
    const dir = scratchDir();
    saveNpy(join(dir, 'x.npy'), float32([2, 3], [1, 2, 3, 3, 6, 9]));
    return { dir, x: join(dir, 'x.npy') };
  }

  it('writes all results or none: a --bias-out that cannot be written keeps --out unwritten', async () => {
    const { dir, x } = setup();
    const run = await runCli('explain', '--model', model, '--inputs', x, '--targets', '0', '--method', 'lrp',
      '--params', '{"bias": "explicit"}', '--out', join(dir, 'a.npy'), '--bias-out', join(dir, 'missing', 'b.json'));
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'a.npy'))).toBe(false);
    expect(readdirSync(dir)).toEqual(['x.npy']);
  });

  it('refuses an --out folder that does not exist, a malformed seed, an unknown --output and integer attributions', async () => {
    const { dir, x } = setup();
    saveNpy(join(dir, 'int.npy'), tensor('int64', [2, 3], new BigInt64Array(6)));
    const runs = [
      await runCli('evaluate', '--model', model, '--inputs', x, '--targets', '0', '--method', 'uniform', '--metric', 'sparseness', '--out', join(dir, 'nope', 'm.json')),
      await runCli('evaluate', '--model', model, '--inputs', x, '--targets', '0', '--method', 'uniform', '--metric', 'sparseness', '--seed', 'abc', '--out', join(dir, 'm.json')),
      await runCli('predict', '--model', model, '--inputs', x, '--output', 'bogus', '--out', join(dir, 'p.npy')),
      await runCli('evaluate', '--model', model, '--inputs', x, '--targets', '0', '--attributions', join(dir, 'int.npy'), '--metric', 'conservation', '--out', join(dir, 'c.json')),
      await runCli('explain', '--model', model, '--inputs', x, '--targets', '99999999999999', '--method', 'gradient', '--out', join(dir, 'g.npy')),
    ];
    const patterns = [/cannot write/, /--seed/, /--output/, /dtype int64/, /out of range/];
    runs.forEach((run, i) => {
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr.split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(patterns[i]);
    });
    expect(readdirSync(dir).sort()).toEqual(['int.npy', 'x.npy']);
  });

  it('asks counterfactual-blame for gold labels instead of scoring predicted targets', async () => {
    const dir = scratchDir();
    const { loadDataset } = await import('@blameboard/datasets');
    const ds = await loadDataset('mnist', { split: 'test', count: 64, seed: 4, layout: 'nchw' });
    saveNpy(join(dir, 'x.npy'), ds.inputs);
    saveNpy(join(dir, 'y.npy'), tensor('int32', [64], ds.labels as Int32Array));
    const base = ['evaluate', '--model', 'mnist-cnn', '--inputs', join(dir, 'x.npy'), '--method', 'gradient', '--metric', 'counterfactual-blame'];
    const refused = await runCli(...base, '--out', join(dir, 'r.json'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--labels/);
    const ok = await runCli(...base, '--labels', join(dir, 'y.npy'), '--out', join(dir, 'm.json'));
    expect(ok.code, ok.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8'));
    expect(m.values.fractionReplaced.perSample).toHaveLength(64);
  });
});

describe('a flat model of an image dataset', () => {
  it('is scored on the image geometry (4×4 patches on 28×28), as the CNNs are', async () => {
    const dir = scratchDir();
    const { loadDataset } = await import('@blameboard/datasets');
    saveNpy(join(dir, 'x.npy'), (await loadDataset('mnist', { split: 'test', count: 4, seed: 8, layout: 'flat' })).inputs);
    const run = await runCli('evaluate', '--model', 'mnist-mlp', '--inputs', join(dir, 'x.npy'), '--method', 'gradient-x-input',
      '--metric', 'selectivity', '--out', join(dir, 'm.json'));
    expect(run.code, run.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8'));
    expect(m.params.patch).toBe(4);
    expect(m.curves.morf[0]).toHaveLength(33);
  });
});
