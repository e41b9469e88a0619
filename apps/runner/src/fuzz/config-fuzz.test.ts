import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, isBlameboardError, Rng, saveNpy } from '@blameboard/core';
import { loadSweepConfig } from '../sweep/config.js';
import { caseSeed, cleanup, FUZZ_SCALE, fuzzCase, FuzzLog, scratch, specialFiles } from './test-utils/harness.js';
import { denseModel } from './test-utils/models.js';

/**
 * Mutated sweep configs: through the config loader in process (the bulk: every config must load
 * or be refused with one line, quickly), and a sample through `blameboard sweep` itself on a
 * small ONNX model (exit 0 with results, or exit 2 leaving nothing behind).
 */

const LOADER_CASES = 900 * FUZZ_SCALE;
const SWEEP_CASES = 40;
const log = new FuzzLog();
const root = scratch('config');
const outside = scratch('config-outside');
afterAll(async () => {
  await disposeSessions();
  cleanup(root);
  cleanup(outside);
});

const special = specialFiles(root, outside);
writeFileSync(
  join(root, 'model.onnx'),
  denseModel(),
);
saveNpy(join(root, 'x.npy'), float32([3, 6], Array.from({ length: 18 }, (_, i) => (i % 5) / 5)));
saveNpy(join(root, 'y.npy'), { dtype: 'int64', shape: [3], data: BigInt64Array.of(0n, 1n, 2n) });

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)];

function baseConfig(): Record<string, unknown> {
  return {
    name: 'fuzz',
    seed: 1,
    samples: 3,
    heatmapSamples: 1,
    models: [{ name: 'dense', path: 'model.onnx', inputs: 'x.npy', labels: 'y.npy' }],
    methods: [{ method: 'gradient' }, { method: 'integrated-gradients', params: { steps: [2, 4] } }, { method: 'uniform' }],
    metrics: [{ metric: 'sparseness' }, { metric: 'selectivity', params: { steps: 4 } }],
  };
}

const HOSTILE: unknown[] = [
  null, true, false, 0, -1, 1, 0.5, 1e308, -1e308, 2 ** 53, 4294967296, 100001, '', ' ', 'x'.repeat(5000), '\u001b[31mred', '../../etc/passwd',
  [], {}, [[]], [1, 2, 3], { a: 1 }, 'mnist-mlp', 'gradient', 'sparseness', ['zero'], Array.from({ length: 200 }, (_, i) => i),
];
const PATHS = ['model.onnx', 'x.npy', 'y.npy', 'nowhere.onnx', '../x.npy', '/etc/passwd', '.', '', 'x.npy:z', ...Object.keys(special).filter((k) => k !== 'empty').map((k) => special[k])];
const METHOD_IDS = ['gradient', 'lrp', 'deeplift', 'occlusion', 'integrated-gradients', 'smoothgrad', 'blame', 'random', 'edge', 'saliency', '__proto__', 'GRADIENT', ''];
const METRIC_IDS = ['sparseness', 'selectivity', 'conservation', 'continuity', 'complexity', 'counterfactual-blame', 'randomization', 'faithfulness', 'constructor', ''];
const PARAM_NAMES = ['steps', 'gamma', 'epsilon', 'composite', 'baseline', 'abs', 'window', 'fill', 'patch', 'samples', 'noise', 'layerRules', 'low', 'reference', 'pair', 'toString', '__proto__'];

/** Every [parent, key] of a JSON value, so a mutation can reach any node. */
function slots(value: unknown, out: [Record<string, unknown> | unknown[], string | number][] = []): typeof out {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push([value, i]);
      slots(v, out);
    });
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push([value as Record<string, unknown>, k]);
      slots(v, out);
    }
  }
  return out;
}

function mutateValue(config: Record<string, unknown>, rng: Rng): string {
  const kind = rng.int(10);
  const all = slots(config);
  const [parent, key] = pick(rng, all);
  const set = (v: unknown) => ((parent as Record<string | number, unknown>)[key] = v);
  switch (kind) {
    case 0:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete (parent as Record<string, unknown>)[key];
      return `removed ${String(key)}`;
    case 1: {
      const v = pick(rng, HOSTILE);
      set(structuredClone(v));
      return `${String(key)} = ${JSON.stringify(v)?.slice(0, 40)}`;
    }
    case 2: {
      const m = config.models as unknown[];
      const entry: Record<string, unknown> = pick(rng, [{ zoo: 'mnist-mlp' }, { path: pick(rng, PATHS) }, { path: 'model.onnx', dataset: pick(rng, ['mnist', 'nope', 'synthetic-linear']) }, 'mnist-mlp', 'nope']) as Record<string, unknown>;
      const e = typeof entry === 'string' ? entry : { ...entry };
      if (typeof e !== 'string') for (const k of ['inputs', 'labels', 'pair', 'name', 'preprocess']) if (rng.next() < 0.3) e[k] = k === 'preprocess' ? pick(rng, [{ resize: 8 }, { crop: -1 }, {}, 'x']) : k === 'name' ? pick(rng, ['dense', 'other', '']) : pick(rng, PATHS);
      if (Array.isArray(m)) m.push(e);
      return `model ${JSON.stringify(e).slice(0, 120)}`;
    }
    case 3: {
      const list = config.methods as Record<string, unknown>[];
      const entry: Record<string, unknown> = { method: pick(rng, METHOD_IDS) };
      if (rng.next() < 0.7) entry.params = { [pick(rng, PARAM_NAMES)]: structuredClone(pick(rng, HOSTILE)) };
      if (rng.next() < 0.3) entry.label = pick(rng, ['a', 'gradient', '', 'x'.repeat(300)]);
      if (Array.isArray(list)) list.push(entry);
      return `method ${JSON.stringify(entry).slice(0, 120)}`;
    }
    case 4: {
      const list = config.metrics as Record<string, unknown>[];
      const entry: Record<string, unknown> = { metric: pick(rng, METRIC_IDS) };
      if (rng.next() < 0.7) entry.params = { [pick(rng, PARAM_NAMES)]: structuredClone(pick(rng, HOSTILE)) };
      if (Array.isArray(list)) list.push(entry);
      return `metric ${JSON.stringify(entry).slice(0, 120)}`;
    }
    case 5: {
      // A grid: axis lengths that may multiply past the sweep's limit.
      const axes = 1 + rng.int(4);
      const params: Record<string, unknown> = {};
      for (const name of ['gamma', 'epsilon', 'alpha', 'beta'].slice(0, axes)) params[name] = Array.from({ length: pick(rng, [1, 2, 30, 120, 5000]) }, (_, i) => i / 100);
      if (Array.isArray(config.methods)) config.methods.push({ method: 'lrp', params });
      return `lrp grid of ${Object.values(params).map((a) => (a as unknown[]).length).join('×')}`;
    }
    case 6:
      (config as Record<string, unknown>)[pick(rng, ['quick', 'batchSize', 'seed', 'samples', 'heatmapSamples', '$schema', 'extra'])] = structuredClone(pick(rng, [...HOSTILE, { samples: 2, maxAxisValues: 1 }, { maxAxisValues: 2 }]));
      return 'top-level setting';
    case 7: {
      let deep: unknown = 1;
      const depth = pick(rng, [10, 60, 63, 64, 65, 200]);
      for (let d = 0; d < depth; d++) deep = [deep];
      set(deep);
      return `nested ${depth} deep at ${String(key)}`;
    }
    case 8:
      (config.methods as unknown[])?.push?.(structuredClone((config.methods as unknown[])[0]));
      return 'a method entry twice';
    default:
      set(pick(rng, [`${'\u0000'}`, '\ud800', '\u202e', '\r\n']));
      return `control characters at ${String(key)}`;
  }
}

function mutateText(text: string, rng: Rng): [string, string] {
  switch (rng.int(7)) {
    case 0: {
      const at = rng.int(text.length);
      return [text.slice(0, at), `truncated at ${at}`];
    }
    case 1:
      return [`\ufeff${text}`, 'byte-order mark'];
    case 2:
      return [text.replace(/(:\s*)-?\d+(\.\d+)?/, '$11e999'), 'a number literal of 1e999'];
    case 3:
      return [text.replace('{', '{ "__proto__": { "polluted": true }, '), '__proto__ key'];
    case 4:
      return [text.replace(/}\s*$/, ', }'), 'trailing comma'];
    case 5:
      return [`// comment\n${text}`, 'a comment'];
    default:
      return [text.replace(/"samples":\s*\d+/, '"samples": 3, "samples": -1'), 'a duplicate key'];
  }
}

function makeConfig(rng: Rng): { text: string; label: string } {
  const config = baseConfig();
  const labels: string[] = [];
  const n = rng.int(4);
  for (let k = 0; k < n; k++) labels.push(mutateValue(config, rng));
  let text = JSON.stringify(config, null, rng.next() < 0.5 ? 2 : undefined);
  if (rng.next() < 0.2) {
    const [t, what] = mutateText(text, rng);
    text = t;
    labels.push(what);
  }
  return { text, label: labels.join('; ') || 'unchanged' };
}

describe('fuzz: mutated sweep configs', () => {
  it(`${LOADER_CASES} configs through the loader: each loads or is refused with one line, quickly`, () => {
    let loaded = 0;
    for (let i = 0; i < LOADER_CASES; i++) {
      const rng = new Rng(caseSeed(2, i));
      const { text, label } = makeConfig(rng);
      const file = join(root, `config-${i}.json`);
      writeFileSync(file, text);
      const spec = { family: 'config loader', label: `case ${i} (seed ${caseSeed(2, i)}): ${label}`, argv: ['(loadSweepConfig)', file] };
      const started = performance.now();
      let code = 0;
      try {
        const sweep = loadSweepConfig(file);
        loaded++;
        if (sweep.methods.length < 1 || sweep.metrics.length < 1 || sweep.models.length < 1) log.fail(spec, 'loaded a config without methods, metrics or models');
        if (({} as Record<string, unknown>).polluted !== undefined) log.fail(spec, 'Object.prototype polluted');
      } catch (e) {
        code = isBlameboardError(e) ? 2 : 1;
        if (!isBlameboardError(e)) log.fail(spec, `threw a ${(e as Error)?.constructor?.name}: ${String((e as Error)?.message ?? e).slice(0, 200)}`);
        else if ((e as Error).message.includes('\n')) log.fail(spec, 'a multi-line message');
      }
      log.count(spec.family, code);
      const ms = performance.now() - started;
      if (ms > 2000) log.fail(spec, `took ${ms.toFixed(0)} ms`);
    }
    console.log(`${log.summary('sweep configs (loader)')}; ${loaded} loaded`);
    expect(log.failures).toEqual([]);
    expect(loaded).toBeGreaterThan(LOADER_CASES / 10);
  });

  it(`${SWEEP_CASES} configs through 'blameboard sweep' on a small model`, async () => {
    const before = log.cases;
    for (let i = 0; i < SWEEP_CASES; i++) {
      const rng = new Rng(caseSeed(3, i));
      // Mostly valid configs (the loader cases cover refusals): a sweep that runs must finish.
      const config = baseConfig();
      // Big grids are the loader's business: here they would only make a long (correct) sweep.
      let label = 'unchanged';
      if (rng.next() < 0.5) {
        do label = mutateValue(config, rng);
        while (label.startsWith('lrp grid'));
      }
      const dir = join(root, `sweep-${i}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'model.onnx'), readFileSync(join(root, 'model.onnx')));
      writeFileSync(join(dir, 'x.npy'), readFileSync(join(root, 'x.npy')));
      writeFileSync(join(dir, 'y.npy'), readFileSync(join(root, 'y.npy')));
      const file = join(dir, 'sweep.json');
      writeFileSync(file, JSON.stringify(config));
      const out = join(dir, 'out');
      await fuzzCase(log, {
        family: 'sweep',
        label: `sweep ${i} (seed ${caseSeed(3, i)}): ${label}`,
        argv: ['sweep', '--config', file, '--out', out, '--samples', '3'],
        dir,
        outputs: [out],
        timeoutMs: 60_000,
        check: () => (existsSync(join(out, 'results.json')) ? null : 'no results.json'),
      });
      cleanup(dir);
    }
    console.log(log.summary('sweep configs (loader and sweep)'));
    expect(log.failures).toEqual([]);
    expect(log.cases - before).toBe(SWEEP_CASES);
  }, 600_000);
});
