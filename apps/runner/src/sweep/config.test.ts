import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UsageError } from '@blameboard/core';
import { loadSweepConfig, resolveSweepConfig, thin } from './config.js';
import { sweepSchema } from './schema.js';

const base = {
  models: ['mnist-mlp'],
  methods: [{ method: 'gradient' }],
  metrics: [{ metric: 'sparseness' }],
};

function resolve(patch: Record<string, unknown>, opts = {}) {
  return resolveSweepConfig({ ...base, ...patch }, '/tmp', opts);
}

function refusal(patch: Record<string, unknown>): string {
  try {
    resolve(patch);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('sweep config', () => {
  it('takes the cartesian product of the array-valued parameters, first axis slowest', () => {
    const s = resolve({ methods: [{ method: 'lrp', params: { composite: ['epsilon', 'gamma'], gamma: [0, 0.5], epsilon: 0.01 } }] });
    expect(s.methods.map((m) => m.label)).toEqual([
      'lrp epsilon=0.01 composite=epsilon gamma=0',
      'lrp epsilon=0.01 composite=epsilon gamma=0.5',
      'lrp epsilon=0.01 composite=gamma gamma=0',
      'lrp epsilon=0.01 composite=gamma gamma=0.5',
    ]);
    expect(s.methods[3].axes).toEqual({ composite: 'gamma', gamma: 0.5 });
    // Parameters are resolved: defaults filled from the method's ParamSpec.
    expect(s.methods[3].params).toMatchObject({ composite: 'gamma', gamma: 0.5, epsilon: 0.01, alpha: 2, beta: 1 });
    expect(new Set(s.methods.map((m) => m.family))).toEqual(new Set(['lrp epsilon=0.01']));
  });

  it('takes json parameters as written: their arrays are values, not grid axes', () => {
    const s = resolve({ methods: [{ method: 'lrp', label: 'bounded', params: { low: [0, 0, 0], high: 1 } }] });
    expect(s.methods).toHaveLength(1);
    expect(s.methods[0].params.low).toEqual([0, 0, 0]);
  });

  it('expands metric grids into labelled configurations', () => {
    const s = resolve({ metrics: [{ metric: 'selectivity', params: { fill: ['uniform', 'blur'], steps: 8 } }] });
    expect(s.metrics.map((m) => m.label)).toEqual(['selectivity[fill=uniform]', 'selectivity[fill=blur]']);
    expect(s.metrics[1].params).toMatchObject({ fill: 'blur', steps: 8, order: 'both' });
  });

  it('rejects a wrong type with its JSON pointer and the bad value', () => {
    expect(refusal({ samples: '12' })).toMatch(/^sweep config: \/samples: must be a whole number, got "12"$/);
    expect(refusal({ methods: [{ method: 'lrp', params: { gamma: [0.25, 'big'] } }] })).toMatch(/\/methods\/0\/params\/gamma\/1: must be of type number, got "big"/);
  });

  it('rejects an unknown method or metric, listing the known ids', () => {
    const m = refusal({ methods: [{ method: 'gradient' }, { method: 'saliency' }] });
    expect(m).toMatch(/^sweep config: \/methods\/1\/method: "saliency" is not allowed; allowed: gradient, gradient-x-input, integrated-gradients, /);
    expect(m).toContain('edge');
    expect(refusal({ metrics: [{ metric: 'faithfulness' }] })).toMatch(/\/metrics\/0\/metric: "faithfulness" is not allowed; allowed: selectivity, conservation/);
    expect(refusal({ models: ['mnist-mpl'] })).toMatch(/\/models\/0: "mnist-mpl" is not allowed; allowed: mnist-mlp, mnist-cnn/);
  });

  it('rejects an unknown parameter, listing the method\u2019s parameters', () => {
    expect(refusal({ methods: [{ method: 'smoothgrad', params: { sigma: 0.2 } }] })).toMatch(
      /\/methods\/0\/params\/sigma: unknown parameter 'sigma'; allowed: samples, noise, variant, multiplyByInput, seed/,
    );
    expect(refusal({ method: 'x' })).toMatch(/\/method: unknown key 'method'; allowed: \$schema, name, seed, samples/);
  });

  it('rejects out-of-range values, in grids too', () => {
    expect(refusal({ methods: [{ method: 'lrp', params: { gamma: [0, -1] } }] })).toMatch(/\/methods\/0\/params\/gamma\/1: must be >= 0, got -1/);
    expect(refusal({ metrics: [{ metric: 'selectivity', params: { fraction: 1.5 } }] })).toMatch(/\/metrics\/0\/params\/fraction: must be <= 1, got 1.5/);
    expect(refusal({ samples: 0 })).toMatch(/\/samples: must be >= 1, got 0/);
    expect(refusal({ methods: [{ method: 'integrated-gradients', params: { rule: 'simpson' } }] })).toMatch(/\/methods\/0\/params\/rule: "simpson" is not allowed; allowed: gauss-legendre, riemann-left/);
    expect(refusal({ methods: [] })).toMatch(/\/methods: needs at least 1 item/);
  });

  it('refuses two entries that make the same row', () => {
    expect(refusal({ methods: [{ method: 'gradient' }, { method: 'gradient', params: { abs: false } }] })).toMatch(/\/methods\/1: the same method configuration .* is already made by \/methods\/0/);
    expect(refusal({ methods: [{ method: 'lrp', params: { gamma: [0.25, 0.25] } }] })).toMatch(/already made by \/methods\/0/);
    expect(refusal({ models: ['mnist-mlp', { zoo: 'mnist-mlp' }] })).toMatch(/\/models\/1: model name 'mnist-mlp' is already used by \/models\/0/);
    expect(refusal({ models: [{ zoo: 'mnist-mlp', path: 'x.onnx' }] })).toMatch(/\/models\/0: a model object names exactly one of "zoo"/);
    expect(refusal({ models: [{ path: 'x.onnx' }] })).toMatch(/\/models\/0: a model given by path needs a "dataset" or "inputs"/);
    expect(refusal({ models: [{ path: 'x.onnx', inputs: 'images', preprocess: { crop: 224, std: [0] } }] })).toBe('sweep config /models/0/preprocess.std[0] must be > 0, got 0');
  });

  it('--quick keeps at most three evenly spaced values per axis and fewer samples', () => {
    const s = resolve({ samples: 128, methods: [{ method: 'lrp', params: { gamma: [0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5] } }] }, { quick: true });
    expect(s.methods.map((m) => m.axes.gamma)).toEqual([0, 0.25, 5]);
    expect(s.samples).toBe(16);
    expect(thin([1, 2, 3, 4], 3)).toEqual([1, 3, 4]);
    expect(resolve({ quick: { samples: 4, maxAxisValues: 2 }, methods: [{ method: 'integrated-gradients', params: { steps: [8, 16, 32] } }] }, { quick: true }).methods.map((m) => m.axes.steps)).toEqual([8, 32]);
  });

  it('hashes what runs, so a changed grid or sample count changes the hash', () => {
    const a = resolve({}).configHash;
    expect(resolve({}).configHash).toBe(a);
    expect(resolve({ samples: 64 }).configHash).not.toBe(a);
    expect(resolve({}, { samples: 64 }).configHash).toBe(resolve({ samples: 64 }).configHash);
  });

  it('reads a file and says what is wrong with it', () => {
    expect(() => loadSweepConfig('/nonexistent/sweep.json')).toThrow(/^sweep config \/nonexistent\/sweep.json cannot be read: no such file$/);
    expect(() => loadSweepConfig('/tmp')).toThrow(/^sweep config \/tmp cannot be read: it is a folder$/);
  });

  it('ships a schema file equal to the one built from the registries, and the default bench config passes it', () => {
    const shipped = JSON.parse(readFileSync(new URL('../../schema/sweep.schema.json', import.meta.url), 'utf8'));
    expect(shipped, "schema/sweep.schema.json is stale: run 'pnpm --filter blameboard schema'").toEqual(sweepSchema());
    const bench = loadSweepConfig(new URL('../../../../bench/default.sweep.json', import.meta.url).pathname);
    expect(bench.samples).toBe(128);
    expect(bench.models.map((m) => m.name)).toEqual(['mnist-cnn', 'mnist-bn-cnn', 'mnist-mlp', 'synthetic-mlp', 'equivalent-a']);
    const gammas = bench.methods.filter((m) => m.family === 'lrp epsilon-gamma-box').map((m) => m.axes.gamma);
    expect(gammas).toEqual([0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5]);
    expect(bench.methods.map((m) => m.method)).toEqual(expect.arrayContaining(['uniform', 'edge', 'random', 'blame', 'occlusion', 'deep-taylor']));
  });
});
