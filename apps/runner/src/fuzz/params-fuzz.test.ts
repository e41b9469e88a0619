import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, loadNpy, Rng, saveNpy, type ParamSpec } from '@blameboard/core';
import { methods } from '@blameboard/methods';
import { metrics } from '@blameboard/metrics';
import { caseSeed, cleanup, FUZZ_SCALE, fuzzCase, FuzzLog, scratch, specialFiles } from './test-utils/harness.js';
import { denseModel } from './test-utils/models.js';

/**
 * Mutated `--params` of every method (explain) and metric (evaluate), `--method-params` and
 * `--preprocess`: values in and out of each ParamSpec's range, wrong types, hostile JSON text.
 * A run either gives finite results or is refused with one line.
 */

const CASES = 450 * FUZZ_SCALE;
const log = new FuzzLog();
const root = scratch('params');
const outside = scratch('params-outside');
afterAll(async () => {
  await disposeSessions();
  cleanup(root);
  cleanup(outside);
});

const special = specialFiles(root, outside);
const model = join(root, 'model.onnx');
writeFileSync(
  model,
  denseModel(),
);
const inputs = join(root, 'x.npy');
saveNpy(inputs, float32([2, 6], Array.from({ length: 12 }, (_, i) => (i % 5) / 5)));
writeFileSync(join(root, 'pair.onnx'), readFileSync(model));
saveNpy(join(root, 'labels.npy'), { dtype: 'int64', shape: [2], data: BigInt64Array.of(0n, 2n) });

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)];

const HOSTILE: unknown[] = [null, true, false, '', 'x', '1', [], {}, [1], { a: 1 }, -1, 0, -0, 1e-320, 1e308, -1e308, 2 ** 53 + 2, 0.5, 1.5, 'zero', 'mean', 'blur', '\u001b[31m', 'x'.repeat(3000)];
const JSON_VALUES: unknown[] = [
  0, 1, -1, 0.25, [0, 1], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1], Array.from({ length: 1000 }, () => 0), [[0]], [{ layer: 0, rule: 'epsilon' }], [{ layer: 99, rule: 'gamma' }],
  [{ layer: 0, rule: 'nope' }], [{ layer: -1, rule: 'z-plus' }], [{ layers: [0], rule: 'epsilon', params: { epsilon: 1e9 } }], { low: 0 }, 'mnist', 'synthetic-linear', 'nope', null, '',
  join(root, 'pair.onnx'), ...Object.values(special), '/etc/passwd', '../../../../etc/shadow',
];

/** A value for `spec`: in range most of the time, at or past its bounds, or of the wrong type. */
function valueFor(spec: ParamSpec, rng: Rng): unknown {
  const r = rng.next();
  if (spec.type === 'json') return structuredClone(pick(rng, JSON_VALUES));
  if (r < 0.2) return structuredClone(pick(rng, HOSTILE));
  switch (spec.type) {
    case 'boolean':
      return rng.next() < 0.5;
    case 'string':
      if (spec.choices && (!spec.allowNumber || rng.next() < 0.6)) return rng.next() < 0.9 ? pick(rng, spec.choices) : `${pick(rng, spec.choices)}x`;
      if (spec.allowNumber) return pick(rng, [0, 0.5, -1, 3e38, -3e38, 1e30, spec.max ?? 1]);
      return pick(rng, ['mnist', 'synthetic-linear', 'nope', '']);
    default: {
      const lo = spec.min ?? -1e6;
      const hi = spec.max ?? 1e6;
      // Mostly small values (a big grid of steps on every case would only be slow), and the bounds.
      const edges = [lo, hi, lo - 1, hi + 1, lo + (hi - lo) / 2];
      if (r < 0.45) return pick(rng, edges.filter((v) => Number.isFinite(v)));
      const v = lo + Math.min(hi - lo, 16) * rng.next();
      return spec.type === 'integer' ? Math.round(v) : v;
    }
  }
}

function paramsFor(specs: readonly ParamSpec[], rng: Rng): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const spec of specs) if (rng.next() < 0.4) params[spec.name] = valueFor(spec, rng);
  if (rng.next() < 0.08) params[pick(rng, ['nope', 'toString', 'constructor', 'Steps', ''])] = 1;
  return params;
}

/** JSON text, sometimes mangled: the flag's parser must refuse it with one line. */
function textOf(value: unknown, rng: Rng): [string, string] {
  const text = JSON.stringify(value);
  switch (rng.int(14)) {
    case 0:
      return [text.slice(0, rng.int(text.length + 1)), 'truncated'];
    case 1:
      return ['[1, 2]', 'an array'];
    case 2:
      return ['"steps"', 'a string'];
    case 3:
      return [`${'['.repeat(70)}${']'.repeat(70)}`, 'nested 70 deep'];
    case 4:
      return [text.replace(/(:\s*)-?\d+(\.\d+)?/, '$11e999'), '1e999'];
    case 5:
      return [`{"__proto__": {"steps": 1e9}, ${text.slice(1)}`.replace(', }', '}'), '__proto__'];
    case 6:
      return ['', 'empty'];
    default:
      return [text, 'as written'];
  }
}

describe('fuzz: mutated --params', () => {
  it(`${CASES} seeded cases end in a correct result or one clean line with exit 2`, async () => {
    const compiledOrForward = methods.filter((m) => m.id !== 'blame');
    for (let i = 0; i < CASES; i++) {
      const rng = new Rng(caseSeed(4, i));
      const dir = join(root, `case-${i}`);
      mkdirSync(dir);
      let argv: string[];
      let label: string;
      let out: string;
      const kind = rng.int(10);
      if (kind < 6) {
        const method = pick(rng, rng.next() < 0.9 ? compiledOrForward : methods);
        const [text, how] = textOf(paramsFor(method.params, rng), rng);
        out = join(dir, 'a.npy');
        argv = ['explain', '--model', model, '--inputs', inputs, '--targets', String(pick(rng, [0, 1, 2])), '--method', method.id, '--params', text, '--out', out];
        label = `${method.id} ${how} ${text.slice(0, 200)}`;
      } else if (kind < 9) {
        const metric = pick(rng, metrics);
        const [text, how] = textOf(paramsFor(metric.params, rng), rng);
        const method = pick(rng, ['gradient', 'occlusion', 'integrated-gradients', 'uniform']);
        const [methodText] = rng.next() < 0.3 ? textOf(paramsFor(methods.find((m) => m.id === method)!.params, rng), rng) : ['{}'];
        out = join(dir, 'm.json');
        argv = ['evaluate', '--model', model, '--inputs', inputs, '--targets', '1', '--labels', join(root, 'labels.npy'), '--method', method, '--method-params', methodText, '--metric', metric.id, '--params', text, '--out', out];
        label = `${metric.id} ${how} ${text.slice(0, 200)} (method ${method} ${methodText.slice(0, 100)})`;
      } else {
        const spec = pick(rng, [{ resize: 8 }, { resize: 0 }, { resize: 1e9 }, { crop: 4 }, { mean: [0.5], std: [0] }, { mean: 'x' }, { std: [1, 1, 1, 1] }, { resize: [8, 8] }, {}, { extra: 1 }, null]);
        const [text, how] = textOf(spec, rng);
        out = join(dir, 'y.npy');
        argv = ['predict', '--model', model, '--inputs', inputs, '--preprocess', text, '--out', out];
        label = `preprocess ${how} ${text.slice(0, 200)}`;
      }
      await fuzzCase(log, {
        family: `${argv[0]} --params`,
        label: `case ${i} (seed ${caseSeed(4, i)}): ${label}`,
        argv,
        dir,
        outputs: [out],
        check: () => {
          if (out.endsWith('.json')) {
            const doc = JSON.parse(readFileSync(out, 'utf8')) as { values?: Record<string, unknown> };
            return doc.values && Object.keys(doc.values).length > 0 ? null : 'a metric document without values';
          }
          const t = loadNpy(out);
          for (const v of t.data as Float32Array) if (!Number.isFinite(v)) return 'non-finite values written with exit 0';
          return t.shape[0] === 2 ? null : `result of shape [${t.shape}]`;
        },
      });
      cleanup(dir);
      if (i % 100 === 99) await disposeSessions();
    }
    console.log(log.summary('--params'));
    expect(log.failures).toEqual([]);
    expect(log.cases).toBe(CASES);
    expect(log.exits.get(0) ?? 0).toBeGreaterThan(CASES / 10);
  }, 600_000);
});
