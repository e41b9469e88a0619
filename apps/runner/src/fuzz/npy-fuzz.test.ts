import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, loadNpy, Rng, writeNpy, type Tensor } from '@blameboard/core';
import { caseSeed, cleanup, FUZZ_SCALE, fuzzCase, FuzzLog, scratch } from './test-utils/harness.js';
import { denseModel } from './test-utils/models.js';

/**
 * Mutated `.npy` (and `.npz`) files as inputs, targets, labels and attributions: headers
 * (magic, version, length, descr, fortran_order, shape) and data (truncated, padded, NaN/Inf,
 * bit flips). The model is fixed (one onnxruntime session for the whole family).
 */

const CASES = 700 * FUZZ_SCALE;
const log = new FuzzLog();
const root = scratch('npy');
afterAll(async () => {
  await disposeSessions();
  cleanup(root);
});

const modelFile = join(root, 'model.onnx');
writeFileSync(
  modelFile,
  denseModel(),
);

const good = {
  inputs: writeNpy(float32([4, 6], Array.from({ length: 24 }, (_, i) => (i % 9) / 9))),
  targets: writeNpy({ dtype: 'int64', shape: [4], data: BigInt64Array.of(0n, 1n, 2n, 1n) }),
  attributions: writeNpy(float32([4, 6], Array.from({ length: 24 }, (_, i) => ((i % 7) - 3) / 3))),
};

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)];

const DESCRS = ['<f4', '>f4', '<f8', '>f8', '|u1', '<i8', '>i8', '<i4', '|b1', '<f2', '<c8', '|O', '|S10', '<U5', '', 'f4', '<f4 ', '<f40', '<f99999999999', "'", '<V8'];
const SHAPES = ['(4, 6)', '()', '(0, 6)', '(4,)', '(24,)', '(4, 6, 1)', '(1, 4, 6)', '(99999999999999999999, 6)', '(-4, 6)', '(4L, 6L)', '(4, 6', '4, 6', '(4,6,)', '(2, 6)', '(8, 6)', '(4, 3)', '(6, 4)', '(1e3, 6)', '(0x4, 6)', '(4, 6)' + ' '.repeat(5000), '(' + '1, '.repeat(200) + '4, 6)'];

function header(descr: string, fortran: string, shape: string): string {
  return `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
}

/** An .npy from parts: magic, version, header-length field, header text, data. */
function npy(parts: { magic?: number[]; major?: number; minor?: number; header: string; length?: number; data: Uint8Array }): Uint8Array {
  const text = new TextEncoder().encode(parts.header.padEnd(Math.ceil((parts.header.length + 11) / 64) * 64 - 11) + '\n');
  const major = parts.major ?? 1;
  const wide = major >= 2;
  const pre = new Uint8Array(wide ? 12 : 10);
  pre.set(parts.magic ?? [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
  pre[6] = major;
  pre[7] = parts.minor ?? 0;
  const view = new DataView(pre.buffer);
  const length = parts.length ?? text.length;
  if (wide) view.setUint32(8, length >>> 0, true);
  else view.setUint16(8, length & 0xffff, true);
  const out = new Uint8Array(pre.length + text.length + parts.data.length);
  out.set(pre);
  out.set(text, pre.length);
  out.set(parts.data, pre.length + text.length);
  return out;
}

function dataOf(file: Uint8Array): Uint8Array {
  const headerLength = new DataView(file.buffer, file.byteOffset).getUint16(8, true);
  return file.subarray(10 + headerLength);
}

/** A mutated version of `base` and what changed. */
function mutateNpy(base: Uint8Array, rng: Rng, descr: string, shape: string): [Uint8Array, string] {
  const data = dataOf(base);
  const kind = rng.int(9);
  switch (kind) {
    case 0: {
      const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
      magic[rng.int(6)] ^= 1 << rng.int(8);
      return [npy({ magic, header: header(descr, 'False', shape), data }), 'bad magic'];
    }
    case 1: {
      const major = pick(rng, [0, 1, 2, 3, 4, 255]);
      return [npy({ major, minor: pick(rng, [0, 1, 9]), header: header(descr, 'False', shape), data }), `version ${major}`];
    }
    case 2: {
      const length = pick(rng, [0, 1, 9, 0xffff, 0xffffffff, 2 ** 31, 127]);
      return [npy({ major: pick(rng, [1, 2]), header: header(descr, 'False', shape), length, data }), `header length ${length}`];
    }
    case 3: {
      const d = pick(rng, DESCRS);
      return [npy({ header: header(d, 'False', shape), data }), `descr ${JSON.stringify(d)}`];
    }
    case 4: {
      const s = pick(rng, SHAPES);
      return [npy({ header: header(descr, 'False', s), data }), `shape ${JSON.stringify(s.slice(0, 40))}`];
    }
    case 5: {
      const h = pick(rng, [
        header(descr, 'True', shape),
        header(descr, 'Maybe', shape),
        `{'descr': '${descr}', 'shape': ${shape}}`,
        `{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': ${shape}, }`,
        '',
        '{}',
        `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, 'extra': \u001b[31m }`,
        `\u0000\u0001 ${header(descr, 'False', shape)}`,
        'x'.repeat(70_000),
      ]);
      return [npy({ major: h.length > 60_000 ? 2 : 1, header: h, data }), `header ${JSON.stringify(h.slice(0, 40))}`];
    }
    case 6: {
      const at = rng.int(data.length + 1);
      return [npy({ header: header(descr, 'False', shape), data: data.subarray(0, at) }), `data truncated to ${at}`];
    }
    case 7: {
      const extra = new Uint8Array(rng.int(64) + 1).fill(0x7f);
      return [npy({ header: header(descr, 'False', shape), data: new Uint8Array([...data, ...extra]) }), `${extra.length} bytes of trailing data`];
    }
    default: {
      const out = base.slice();
      const n = 1 + rng.int(6);
      for (let k = 0; k < n; k++) {
        const at = rng.int(out.length);
        out[at] = pick(rng, [0xff, 0x7f, 0x80, 0x00, out[at] ^ (1 << rng.int(8))]);
      }
      return [out, `${n} bytes changed`];
    }
  }
}

/** A one-array `.npz` (deflated, or stored) around `npyBytes`. */
function npz(name: string, npyBytes: Uint8Array, deflate: boolean): Uint8Array {
  const body = deflate ? deflateRawSync(npyBytes) : npyBytes;
  const fileName = new TextEncoder().encode(`${name}.npy`);
  const local = new DataView(new ArrayBuffer(30));
  local.setUint32(0, 0x04034b50, true);
  local.setUint16(4, 20, true);
  local.setUint16(8, deflate ? 8 : 0, true);
  local.setUint32(14, crc32(npyBytes), true);
  local.setUint32(18, body.length, true);
  local.setUint32(22, npyBytes.length, true);
  local.setUint16(26, fileName.length, true);
  const central = new DataView(new ArrayBuffer(46));
  central.setUint32(0, 0x02014b50, true);
  central.setUint16(4, 20, true);
  central.setUint16(6, 20, true);
  central.setUint16(10, deflate ? 8 : 0, true);
  central.setUint32(16, crc32(npyBytes), true);
  central.setUint32(20, body.length, true);
  central.setUint32(24, npyBytes.length, true);
  central.setUint16(28, fileName.length, true);
  const centralAt = 30 + fileName.length + body.length;
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, 1, true);
  end.setUint16(10, 1, true);
  end.setUint32(12, 46 + fileName.length, true);
  end.setUint32(16, centralAt, true);
  const parts = [new Uint8Array(local.buffer), fileName, body, new Uint8Array(central.buffer), fileName, new Uint8Array(end.buffer)];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function finite(t: Tensor): boolean {
  for (const v of t.data as Float32Array) if (!Number.isFinite(v)) return false;
  return true;
}

describe('fuzz: mutated .npy and .npz files', () => {
  it(`${CASES} seeded cases end in a correct result or one clean line with exit 2`, async () => {
    for (let i = 0; i < CASES; i++) {
      const rng = new Rng(caseSeed(1, i));
      const dir = join(root, `case-${i}`);
      mkdirSync(dir);
      const role = pick(rng, ['inputs', 'inputs', 'inputs', 'targets', 'labels', 'attributions', 'npz'] as const);
      const base = role === 'attributions' ? good.attributions : role === 'targets' || role === 'labels' ? good.targets : good.inputs;
      const [descr, shape] = role === 'targets' || role === 'labels' ? ['<i8', '(4,)'] : ['<f4', '(4, 6)'];
      let [bytes, label] = mutateNpy(base, rng, descr, shape);
      let inputs = join(root, 'x.npy');
      const file = join(dir, role === 'npz' ? 'x.npz' : `${role}.npy`);
      if (role === 'npz') {
        const deflate = rng.next() < 0.7;
        let zipped = npz('x', rng.next() < 0.5 ? good.inputs : bytes, deflate);
        if (rng.next() < 0.6) {
          zipped = zipped.slice();
          const n = 1 + rng.int(4);
          for (let k = 0; k < n; k++) zipped[rng.int(zipped.length)] ^= 1 << rng.int(8);
          label = `${label}; npz ${deflate ? 'deflated' : 'stored'} with ${n} bit flips`;
        }
        bytes = zipped;
        inputs = `${file}${rng.next() < 0.2 ? pick(rng, [':x', ':y', ':', ':../x']) : ''}`;
      }
      writeFileSync(file, bytes);
      if (role === 'inputs') inputs = file;
      writeFileSync(join(root, 'x.npy'), good.inputs);
      const out = join(dir, role === 'attributions' || role === 'labels' ? 'm.json' : 'out.npy');
      let argv: string[];
      if (role === 'attributions') {
        argv = ['evaluate', '--model', modelFile, '--inputs', inputs, '--attributions', file, '--metric', pick(rng, ['sparseness', 'selectivity', 'conservation']), '--params', '{}', '--out', out];
        if (argv[8] === 'selectivity') argv.splice(10, 1, '{"steps": 4}');
      } else if (role === 'labels') {
        argv = ['evaluate', '--model', modelFile, '--inputs', inputs, '--method', 'gradient', '--metric', 'counterfactual-blame', '--labels', file, '--out', out];
      } else if (role === 'targets' || rng.next() < 0.3) {
        argv = ['explain', '--model', modelFile, '--inputs', inputs, '--targets', role === 'targets' ? file : '1', '--method', pick(rng, ['gradient', 'integrated-gradients', 'occlusion']), '--out', out];
      } else {
        argv = ['predict', '--model', modelFile, '--inputs', inputs, '--out', out];
      }
      await fuzzCase(log, {
        family: `${role} ${argv[0]}`,
        label: `case ${i} (seed ${caseSeed(1, i)}): ${role}: ${label}`,
        argv,
        dir,
        outputs: [out],
        check: () => {
          if (out.endsWith('.json')) return null;
          const t = loadNpy(out);
          if (!finite(t)) return 'non-finite values written with exit 0';
          return t.shape[0] >= 1 ? null : `result of shape [${t.shape}]`;
        },
      });
      cleanup(dir);
    }
    console.log(log.summary('.npy/.npz'));
    expect(log.failures).toEqual([]);
    expect(log.cases).toBe(CASES);
    expect(log.exits.get(0) ?? 0).toBeGreaterThan(CASES / 20);
    expect(log.exits.get(2) ?? 0).toBeGreaterThan(CASES / 3);
  }, 600_000);
});
