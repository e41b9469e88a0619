import { copyFileSync, mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, saveNpy, writeNpy } from '@blameboard/core';
import { cleanup, fuzzCase, FuzzLog, listTree, scratch, specialFiles } from './test-utils/harness.js';
import { baseModels, denseModel } from './test-utils/models.js';
import { modelBytes } from './test-utils/proto.js';

/**
 * Special files in every place the CLI takes a path: FIFOs, devices, folders, symlinks (out of
 * the folder, dangling, looping, to a FIFO or /dev/zero), a 3 GiB sparse file, an empty path.
 * None may block, be read without bound, or be written through; each gives one clean line or,
 * where the special file is harmless (/dev/null as a folder-less name…), a correct result.
 */

const log = new FuzzLog();
const root = scratch('special');
const outside = scratch('special-outside');
afterAll(async () => {
  await disposeSessions();
  cleanup(root);
  cleanup(outside);
});

const dense = denseModel('bias');

/** A one-layer tfjs LayersModel whose single shard is `shard` (a path written into model.json). */
function tfjsModel(shard: string): string {
  return JSON.stringify({
    format: 'layers-model',
    generatedBy: 'blameboard-fuzz',
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
      config: {
        name: 'seq',
        layers: [{ class_name: 'Dense', config: { name: 'dense', units: 3, activation: 'linear', use_bias: true, batch_input_shape: [null, 6], dtype: 'float32', trainable: true } }],
      },
    },
    weightsManifest: [{ paths: [shard], weights: [{ name: 'dense/kernel', shape: [6, 3], dtype: 'float32' }, { name: 'dense/bias', shape: [3], dtype: 'float32' }] }],
  });
}

interface Slot {
  name: string;
  /** The argv with the special path put in place. */
  argv: (special: string, dir: string) => string[];
  /** Set-up inside the case folder (the special file is named `special` there when relative). */
  prepare?: (dir: string, special: string) => void;
  /** Whether the special value is a file name inside the case folder (external data, shards). */
  relative?: boolean;
}

const SLOTS: Slot[] = [
  { name: 'predict --model', argv: (s, d) => ['predict', '--model', s, '--inputs', join(d, 'x.npy'), '--out', join(d, 'y.npy')] },
  { name: 'predict --inputs', argv: (s, d) => ['predict', '--model', join(d, 'model.onnx'), '--inputs', s, '--out', join(d, 'y.npy')] },
  { name: 'predict --inputs (.npz)', argv: (s, d) => ['predict', '--model', join(d, 'model.onnx'), '--inputs', `${s}:x`, '--out', join(d, 'y.npy')] },
  { name: 'predict --out', argv: (s, d) => ['predict', '--model', join(d, 'model.onnx'), '--inputs', join(d, 'x.npy'), '--out', s] },
  { name: 'explain --targets', argv: (s, d) => ['explain', '--model', join(d, 'model.onnx'), '--inputs', join(d, 'x.npy'), '--targets', s, '--method', 'gradient', '--out', join(d, 'a.npy')] },
  { name: 'explain --heatmap', argv: (s, d) => ['explain', '--model', join(d, 'model.onnx'), '--inputs', join(d, 'x.npy'), '--method', 'gradient', '--out', join(d, 'a.npy'), '--heatmap', s] },
  { name: 'explain --bias-out', argv: (s, d) => ['explain', '--model', join(d, 'model.onnx'), '--inputs', join(d, 'x.npy'), '--method', 'lrp', '--params', '{"bias": "explicit"}', '--out', join(d, 'a.npy'), '--bias-out', s] },
  { name: 'evaluate --attributions', argv: (s, d) => ['evaluate', '--model', join(d, 'model.onnx'), '--inputs', join(d, 'x.npy'), '--attributions', s, '--metric', 'sparseness', '--out', join(d, 'm.json')] },
  { name: 'evaluate --labels', argv: (s, d) => ['evaluate', '--model', join(d, 'model.onnx'), '--inputs', join(d, 'x.npy'), '--method', 'gradient', '--metric', 'counterfactual-blame', '--labels', s, '--out', join(d, 'm.json')] },
  { name: 'evaluate --out', argv: (s, d) => ['evaluate', '--model', join(d, 'model.onnx'), '--inputs', join(d, 'x.npy'), '--method', 'gradient', '--metric', 'sparseness', '--out', s] },
  { name: 'sweep --config', argv: (s, d) => ['sweep', '--config', s, '--out', join(d, 'out')] },
  { name: 'sweep --out', argv: (s, d) => ['sweep', '--config', join(d, 'sweep.json'), '--out', s] },
  {
    name: 'sweep model path',
    argv: (_s, d) => ['sweep', '--config', join(d, 'special.json'), '--out', join(d, 'out')],
    prepare: (d, s) => writeFileSync(join(d, 'special.json'), JSON.stringify({ models: [{ path: s, inputs: 'x.npy' }], methods: [{ method: 'gradient' }], metrics: [{ metric: 'sparseness' }] })),
  },
  {
    name: 'sweep model inputs',
    argv: (_s, d) => ['sweep', '--config', join(d, 'special.json'), '--out', join(d, 'out')],
    prepare: (d, s) => writeFileSync(join(d, 'special.json'), JSON.stringify({ models: [{ path: 'model.onnx', inputs: s }], methods: [{ method: 'gradient' }], metrics: [{ metric: 'sparseness' }] })),
  },
  { name: 'report', argv: (s, d) => ['report', s, '--out', join(d, 'report')] },
  { name: 'merge', argv: (s, d) => ['merge', s, '--out', join(d, 'merged')] },
  {
    name: 'ONNX external data',
    relative: true,
    argv: (_s, d) => ['predict', '--model', join(d, 'ext.onnx'), '--inputs', join(d, 'x.npy'), '--out', join(d, 'y.npy')],
    prepare: (d, s) => {
      const base = structuredClone(baseModels(1)[3]);
      base.spec.graph.initializers[0].external = [['location', s], ['offset', '0']];
      writeFileSync(join(d, 'ext.onnx'), modelBytes(base.spec));
    },
  },
  {
    name: 'tfjs weight shard',
    relative: true,
    argv: (_s, d) => ['predict', '--model', join(d, 'tfjs-model.json'), '--inputs', join(d, 'x.npy'), '--out', join(d, 'y.npy')],
    prepare: (d, s) => writeFileSync(join(d, 'tfjs-model.json'), tfjsModel(s)),
  },
  {
    name: 'image folder entry',
    argv: (_s, d) => ['predict', '--model', join(d, 'model.onnx'), '--inputs', join(d, 'images'), '--out', join(d, 'y.npy')],
    prepare: (d, s) => {
      mkdirSync(join(d, 'images'));
      if (s) symlinkSync(s.startsWith('/') ? s : join(d, s), join(d, 'images', 'a.png'));
    },
  },
];

describe('fuzz: special files in every path the CLI takes', () => {
  it('never blocks, reads without bound, or writes through a special file', async () => {
    const model = join(root, 'model.onnx');
    writeFileSync(model, dense);
    let n = 0;
    for (const slot of SLOTS) {
      const dir = join(root, `slot-${n++}`);
      mkdirSync(dir);
      const kinds = specialFiles(dir, outside);
      writeFileSync(join(dir, 'sparse-3g'), '');
      truncateSync(join(dir, 'sparse-3g'), 3 * 2 ** 30);
      kinds['sparse-3g'] = join(dir, 'sparse-3g');
      kinds.missing = join(dir, 'missing.bin');
      // A plain file where the slot wants one: the control (most slots then run to exit 0).
      writeFileSync(join(dir, 'plain.bin'), new Uint8Array(new Float32Array(21).map((_, i) => i / 21).buffer));
      kinds.plain = join(dir, 'plain.bin');
      writeFileSync(join(dir, 'model.onnx'), dense);
      saveNpy(join(dir, 'x.npy'), float32([2, 6], Array.from({ length: 12 }, (_, i) => (i % 5) / 5)));
      writeFileSync(join(dir, 'sweep.json'), JSON.stringify({ models: [{ path: 'model.onnx', inputs: 'x.npy' }], methods: [{ method: 'gradient' }], metrics: [{ metric: 'sparseness' }] }));
      writeFileSync(join(dir, 'plain.npy'), writeNpy(float32([2, 6])));
      for (const [kind, path] of Object.entries(kinds)) {
        // Paths relative to the case folder for the slots that take a name inside the model's folder.
        const special = slot.relative ? (path.startsWith(dir) ? path.slice(dir.length + 1) : path) : path;
        slot.prepare?.(dir, special);
        const before = listTree(dir);
        await fuzzCase(log, {
          family: slot.name,
          label: `${slot.name} = ${kind}`,
          argv: slot.argv(special, dir),
          dir,
          timeoutMs: 15_000,
        });
        // Each case's own set-up goes again before the next (a folder the slot made, a config).
        for (const f of listTree(dir)) if (!before.includes(f)) cleanup(join(dir, f));
        for (const f of ['special.json', 'ext.onnx', 'tfjs-model.json', 'images']) cleanup(join(dir, f));
      }
      // The FIFOs and the sparse file were never opened for data: the outside file is untouched.
      expect(readFileSync(join(outside, 'secret.bin'))).toEqual(Buffer.from(new Uint8Array(4096).fill(7)));
      cleanup(dir);
    }
    console.log(log.summary('special files'));
    expect(log.failures).toEqual([]);
    expect(log.cases).toBeGreaterThanOrEqual(SLOTS.length * 16);
  }, 300_000);

  it('a FIFO named as a model folder\u2019s model.json, and a model.json that is /dev/zero, are refused without blocking', async () => {
    const dir = join(root, 'tfjs-fifo');
    mkdirSync(join(dir, 'model'), { recursive: true });
    execFileSync('mkfifo', [join(dir, 'model', 'model.json')]);
    saveNpy(join(dir, 'x.npy'), float32([1, 6]));
    symlinkSync('/dev/zero', join(dir, 'zero.json'));
    for (const model of [join(dir, 'model'), join(dir, 'zero.json')]) {
      await fuzzCase(log, { family: 'tfjs model.json', label: model, argv: ['predict', '--model', model, '--inputs', join(dir, 'x.npy'), '--out', join(dir, 'y.npy')], dir, outputs: [join(dir, 'y.npy')], timeoutMs: 15_000 });
    }
    copyFileSync(join(dir, 'x.npy'), join(dir, 'x2.npy'));
    expect(log.failures).toEqual([]);
  });
});
