import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { float32, Rng, saveNpy, writeNpy } from '@blameboard/core';
import { caseSeed, CLI_BUILT, cleanup, FUZZ_SEED, runChild, scratch } from './test-utils/harness.js';
import { baseModels, BYTE_MUTATIONS, STRUCTURAL, denseModel } from './test-utils/models.js';
import { modelBytes } from './test-utils/proto.js';

/**
 * A sample of every family as real `blameboard` processes: a native abort or segfault inside
 * onnxruntime, an exit on a signal, or a process that never ends only shows there. Each runs
 * with an empty HOME and TMPDIR of its own, which must stay empty (no telemetry, no temp files).
 */

const root = scratch('native');
afterAll(() => cleanup(root));

interface ChildCase {
  label: string;
  argv: string[];
}


function cases(): ChildCase[] {
  const list: ChildCase[] = [];
  const dense = join(root, 'dense.onnx');
  writeFileSync(
    dense,
    denseModel('none'),
  );
  const x = join(root, 'x.npy');
  saveNpy(x, float32([2, 6], Array.from({ length: 12 }, (_, i) => (i % 5) / 5)));
  const cnnX = join(root, 'x-cnn.npy');
  saveNpy(cnnX, float32([2, 1, 6, 6], Array.from({ length: 72 }, (_, i) => (i % 7) / 7)));
  const out = (name: string) => join(root, 'out', name);
  mkdirSync(join(root, 'out'));

  // Mutated ONNX models, the structural mutations each at least once.
  const bases = baseModels(FUZZ_SEED);
  // Every other structural mutation (the in-process family runs them all), alternating with the seed.
  const kinds = Object.keys(STRUCTURAL).filter((_, i) => i % 2 === FUZZ_SEED % 2);
  kinds.forEach((kind, i) => {
    const rng = new Rng(caseSeed(5, i));
    const base = structuredClone(bases[i % bases.length]);
    const what = STRUCTURAL[kind](base, rng);
    const dir = join(root, `onnx-${i}`);
    mkdirSync(dir);
    for (const [name, data] of Object.entries(base.files)) writeFileSync(join(dir, name), data);
    writeFileSync(join(dir, 'model.onnx'), modelBytes(base.spec));
    const inputs = base.sample.length === 3 ? cnnX : x;
    const method = ['gradient', 'deeplift', 'lrp'][i % 3];
    list.push({ label: `${kind}: ${what}`, argv: ['explain', '--model', join(dir, 'model.onnx'), '--inputs', inputs, '--targets', '0', '--method', method, '--out', out(`onnx-${i}.npy`)] });
  });
  Object.keys(BYTE_MUTATIONS).forEach((kind, i) => {
    const rng = new Rng(caseSeed(51, i));
    const base = bases[i % bases.length];
    const [bytes, what] = BYTE_MUTATIONS[kind](modelBytes(base.spec), rng);
    const file = join(root, `bytes-${i}.onnx`);
    writeFileSync(file, bytes);
    for (const [name, data] of Object.entries(base.files)) writeFileSync(join(root, name), data);
    list.push({ label: `${kind}: ${what}`, argv: ['predict', '--model', file, '--inputs', base.sample.length === 3 ? cnnX : x, '--out', out(`bytes-${i}.npy`)] });
  });

  // Special files where onnxruntime or a reader would block or read without end.
  execFileSync('mkfifo', [join(root, 'fifo')]);
  symlinkSync('/dev/zero', join(root, 'zero.onnx'));
  list.push({ label: 'a FIFO as the model', argv: ['predict', '--model', join(root, 'fifo'), '--inputs', x, '--out', out('fifo.npy')] });
  list.push({ label: '/dev/zero as the inputs', argv: ['predict', '--model', dense, '--inputs', '/dev/zero', '--out', out('zero.npy')] });
  list.push({ label: 'a link to /dev/zero as the model', argv: ['predict', '--model', join(root, 'zero.onnx'), '--inputs', x, '--out', out('zero2.npy')] });
  const ext = structuredClone(bases[3]);
  ext.spec.graph.initializers[0].external = [['location', 'fifo']];
  writeFileSync(join(root, 'ext-fifo.onnx'), modelBytes(ext.spec));
  list.push({ label: 'a FIFO as external data', argv: ['predict', '--model', join(root, 'ext-fifo.onnx'), '--inputs', x, '--out', out('ext.npy')] });
  list.push({ label: 'sweep --out a FIFO', argv: ['sweep', '--config', join(root, 'sweep.json'), '--out', join(root, 'fifo')] });
  writeFileSync(join(root, 'sweep.json'), JSON.stringify({ models: [{ path: 'dense.onnx', inputs: 'x.npy' }], methods: [{ method: 'gradient' }, { method: 'lrp', params: { epsilon: [0.1, 1] } }], metrics: [{ metric: 'sparseness' }] }));
  list.push({ label: 'a sweep that runs', argv: ['sweep', '--config', join(root, 'sweep.json'), '--out', join(root, 'sweep-out'), '--samples', '2'] });

  // Parameters and command lines.
  const params: [string, string][] = [
    ['lrp', `{"layerRules": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`],
    ['integrated-gradients', '{"steps": 1e999}'],
    ['lrp', '{"composite": "gamma", "gamma": 1000000}'],
    ['smoothgrad', '{"samples": 4096, "noise": 100}'],
    ['occlusion', `{"window": 4096, "baseline": ${'9'.repeat(400)}}`],
    ['integrated-gradients', `{"baseline": 3e38, "steps": 2, "x": "${'y'.repeat(120_000)}"}`],
  ];
  params.forEach(([method, p], i) => list.push({ label: `${method} ${p.slice(0, 60)}`, argv: ['explain', '--model', dense, '--inputs', x, '--method', method, '--params', p, '--out', out(`params-${i}.npy`)] }));
  list.push({ label: 'a 130,000-character argument (near Linux\u2019s 128 KiB per argument)', argv: ['predict', '--model', 'm'.repeat(130_000), '--inputs', x, '--out', out('long.npy')] });
  list.push({ label: '__proto__', argv: ['__proto__'] });
  list.push({ label: 'no command', argv: [] });

  // .npy bytes changed.
  const good = writeNpy(float32([2, 6], Array.from({ length: 12 }, (_, i) => i / 12)));
  for (let i = 0; i < 2; i++) {
    const rng = new Rng(caseSeed(52, i));
    const bytes = good.slice();
    for (let k = 0; k < 3; k++) bytes[rng.int(Math.min(bytes.length, 80))] ^= 1 << rng.int(8);
    const file = join(root, `bad-${i}.npy`);
    writeFileSync(file, bytes);
    list.push({ label: `.npy header bits ${i}`, argv: ['explain', '--model', dense, '--inputs', file, '--method', 'integrated-gradients', '--out', out(`npy-${i}.npy`)] });
  }
  return list;
}

describe('fuzz: a sample as real processes', () => {
  it.runIf(CLI_BUILT)('ends every process with exit 0 or 2 and one clean line: no signal, no abort, no hang, nothing in HOME or TMPDIR', async () => {
    const list = cases();
    const failures: string[] = [];
    const started = performance.now();
    const exits = new Map<string, number>();
    // Two at a time: the machine has two cores, and each process opens onnxruntime.
    for (let i = 0; i < list.length; i += 2) {
      await Promise.all(
        list.slice(i, i + 2).map(async (c, k) => {
          const home = join(root, `home-${i + k}`);
          mkdirSync(home);
          const run = await runChild(c.argv, home);
          const key = run.signal ?? String(run.code);
          exits.set(key, (exits.get(key) ?? 0) + 1);
          const lines = run.stderr.trim().split('\n');
          // The error is the last line; a missing command is the one error followed by the usage.
          const last = (c.argv.length === 0 ? lines[0] : lines.at(-1)) ?? '';
          const problems: string[] = [];
          if (run.timedOut) problems.push('killed after 30 s (a hang)');
          else if (run.signal) problems.push(`died of ${run.signal}`);
          else if (run.code !== 0 && run.code !== 2) problems.push(`exit ${run.code}`);
          if (run.code === 2 && !/^blameboard( [a-z_]+)?: /.test(last)) problems.push(`last line ${JSON.stringify(last.slice(0, 200))}`);
          if (/internal error|Segmentation|Aborted|core dumped|\n\s+at /.test(run.stderr)) problems.push(`stderr ${JSON.stringify(run.stderr.slice(0, 300))}`);
          const left = readdirSync(home);
          if (left.length) problems.push(`left in HOME/TMPDIR: ${left.join(', ')}`);
          for (const p of problems) failures.push(`${c.label}: ${p}`);
        }),
      );
    }
    const summary = [...exits].map(([k, n]) => `${/^\d+$/.test(k) ? `exit ${k}` : k}: ${n}`).join(', ');
    console.log(`fuzz native: ${list.length} processes in ${((performance.now() - started) / 1000).toFixed(1)} s (${summary})`);
    expect(failures).toEqual([]);
    expect(list.length).toBeGreaterThanOrEqual(30);
  }, 300_000);
});
