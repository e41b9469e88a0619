import { execFileSync } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from './errors.js';
import { loadNpy, npyParts, readNpy, saveNpy, writeNpy } from './npy.js';
import type { Tensor } from './tensor.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'npy');
const fixture = (name: string) => loadNpy(join(fixtures, name));
const tmp = mkdtempSync(join(tmpdir(), 'blameboard-npy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The formulas below mirror fixtures/npy/make.py, computed here without numpy.
describe('readNpy on files numpy wrote', () => {
  it('reads float32 in C order', () => {
    const t = fixture('f32-2x3x4.npy');
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([2, 3, 4]);
    expect(Array.from(t.data as Float32Array)).toEqual(Array.from({ length: 24 }, (_, i) => Math.fround((i - 10) / 8)));
  });

  it('reads float64', () => {
    const t = fixture('f64-3x2.npy');
    expect(t.dtype).toBe('float64');
    expect(t.shape).toEqual([3, 2]);
    expect(Array.from(t.data as Float64Array)).toEqual(Array.from({ length: 6 }, (_, i) => i * Math.PI - 7));
  });

  it('reads the integer types and bool', () => {
    const i32 = fixture('i32-5.npy');
    expect([i32.dtype, i32.shape]).toEqual(['int32', [5]]);
    expect(Array.from(i32.data as Int32Array)).toEqual([1, -2, -5, -8, -11]);

    const i64 = fixture('i64-2x2.npy');
    expect([i64.dtype, i64.shape]).toEqual(['int64', [2, 2]]);
    expect(Array.from(i64.data as BigInt64Array)).toEqual([0n, -1n, 2n ** 40n, -(2n ** 53n)]);

    const u8 = fixture('u8-4x1.npy');
    expect([u8.dtype, u8.shape, Array.from(u8.data as Uint8Array)]).toEqual(['uint8', [4, 1], [0, 1, 128, 255]]);

    const i8 = fixture('i8-3.npy');
    expect([i8.dtype, Array.from(i8.data as Int8Array)]).toEqual(['int8', [-128, 0, 127]]);

    const i16 = fixture('i16-3.npy');
    expect([i16.dtype, Array.from(i16.data as Int16Array)]).toEqual(['int16', [-32768, 5, 32767]]);

    const b = fixture('bool-2x2.npy');
    expect([b.dtype, b.shape, Array.from(b.data as Uint8Array)]).toEqual(['bool', [2, 2], [1, 0, 0, 1]]);
  });

  it('reads a 0-d scalar and an empty array', () => {
    const s = fixture('f32-scalar.npy');
    expect([s.shape, Array.from(s.data as Float32Array)]).toEqual([[], [2.5]]);
    const e = fixture('f32-empty-0x3.npy');
    expect([e.shape, e.data.length]).toEqual([[0, 3], 0]);
  });

  it('converts big-endian data', () => {
    const t = fixture('f64-big-endian-3.npy');
    expect(Array.from(t.data as Float64Array)).toEqual([1.5, -2.25, 1e300]);
  });

  it('reads header versions 2.0 and 3.0', () => {
    const want = Array.from({ length: 12 }, (_, i) => Math.fround((i - 10) / 8));
    for (const name of ['f32-3x4-v2.npy', 'f32-3x4-v3.npy']) {
      const bytes = readFileSync(join(fixtures, name));
      expect(bytes[6]).toBe(name.includes('v2') ? 2 : 3);
      const t = readNpy(bytes);
      expect(t.shape).toEqual([3, 4]);
      expect(Array.from(t.data as Float32Array)).toEqual(want);
    }
  });

  it('refuses Fortran order, unsupported dtypes and broken files with an InputError', () => {
    expect(() => fixture('f32-fortran-2x3.npy')).toThrow(/Fortran-ordered/);
    expect(() => fixture('f32-fortran-2x3.npy')).toThrow(InputError);
    expect(() => fixture('c64-2.npy')).toThrow(/unsupported dtype '<c8'/);
    expect(() => readNpy(new TextEncoder().encode('hello, not numpy'))).toThrow(/bad magic/);
    const good = readFileSync(join(fixtures, 'f32-2x3x4.npy'));
    expect(() => readNpy(good.subarray(0, good.length - 4))).toThrow(/truncated data/);
    expect(() => readNpy(good.subarray(0, 40))).toThrow(/truncated header/);
    expect(() => loadNpy(join(tmp, 'missing.npy'))).toThrow(/cannot read .*no such file/);
    // Files that are not files: a device would be read until memory runs out, a FIFO would block.
    expect(() => loadNpy('/dev/zero')).toThrow(/cannot read '\/dev\/zero': it is not a regular file/);
    execFileSync('mkfifo', [join(tmp, 'pipe.npy')]);
    expect(() => loadNpy(join(tmp, 'pipe.npy'))).toThrow(/it is a FIFO, not a regular file/);
  });
});

const samples: Tensor[] = [
  { dtype: 'float32', shape: [2, 3], data: Float32Array.from([0.1, -2, 3.5, 1e-30, -0, 7]) },
  { dtype: 'float64', shape: [4], data: Float64Array.from([Math.PI, -1e300, 0, 5e-324]) },
  { dtype: 'int32', shape: [1, 2, 2], data: Int32Array.from([-(2 ** 31), 2 ** 31 - 1, 0, 42]) },
  { dtype: 'int64', shape: [3], data: BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n, 3n]) },
  { dtype: 'uint8', shape: [2, 1], data: Uint8Array.from([0, 255]) },
  { dtype: 'int8', shape: [2], data: Int8Array.from([-128, 127]) },
  { dtype: 'int16', shape: [2], data: Int16Array.from([-32768, 32767]) },
  { dtype: 'bool', shape: [3], data: Uint8Array.from([1, 0, 1]) },
  { dtype: 'float32', shape: [], data: Float32Array.from([-4]) },
];

describe('writeNpy', () => {
  it('round-trips every dtype through readNpy', () => {
    for (const t of samples) {
      const back = readNpy(writeNpy(t));
      expect(back).toEqual(t);
    }
  });

  it('writes a version 1.0 header that starts the data on a 64-byte boundary', () => {
    const bytes = writeNpy(samples[0]);
    expect(bytes[6]).toBe(1);
    const headerLen = bytes[8] + 256 * bytes[9];
    expect((10 + headerLen) % 64).toBe(0);
    expect(bytes[10 + headerLen - 1]).toBe(0x0a);
  });

  it('respects subarray views (byteOffset) of the source data', () => {
    const backing = Float32Array.from([9, 1, 2, 3, 9]);
    const t: Tensor = { dtype: 'float32', shape: [3], data: backing.subarray(1, 4) };
    expect(Array.from(readNpy(writeNpy(t)).data as Float32Array)).toEqual([1, 2, 3]);
  });

  it('switches to version 2.0 when the header needs more than 65535 bytes', () => {
    // A 0-sized array with a very long shape tuple: only the header is large.
    const shape = [0, ...Array.from({ length: 25000 }, () => 1)];
    const t: Tensor = { dtype: 'float32', shape, data: new Float32Array(0) };
    const bytes = writeNpy(t);
    expect(bytes[6]).toBe(2);
    expect(readNpy(bytes).shape).toEqual(shape);
  });
});

describe('adopting the bytes (readNpy with adopt, loadNpy)', () => {
  it('views the given bytes when the data is aligned, with the same values as a copy', () => {
    for (const t of samples) {
      const bytes = writeNpy(t);
      const adopted = readNpy(bytes, { adopt: true });
      expect(adopted).toEqual(readNpy(bytes));
      expect(adopted.data.buffer).toBe(bytes.buffer);
    }
  });

  it('copies when the data is not aligned for its type, and never shares unadopted bytes', () => {
    const file = writeNpy(samples[0]);
    const shifted = new Uint8Array(file.length + 1).subarray(1);
    shifted.set(file);
    const t = readNpy(shifted, { adopt: true });
    expect(t.data.buffer).not.toBe(shifted.buffer);
    expect(t).toEqual(samples[0]);
    expect(readNpy(file).data.buffer).not.toBe(file.buffer);
  });

  it('converts big-endian data in place when adopting', () => {
    const bytes = new Uint8Array(readFileSync(join(fixtures, 'f64-big-endian-3.npy')));
    expect(Array.from(readNpy(bytes, { adopt: true }).data as Float64Array)).toEqual([1.5, -2.25, 1e300]);
  });
});

describe('npyParts', () => {
  it('is writeNpy split into header and data, the data being the tensor\'s own memory', () => {
    const backing = Float32Array.from([9, 1, 2, 3, 9]);
    const t: Tensor = { dtype: 'float32', shape: [3], data: backing.subarray(1, 4) };
    const [header, data] = npyParts(t);
    expect(data.buffer).toBe(backing.buffer);
    expect([data.byteOffset, data.byteLength]).toEqual([4, 12]);
    const whole = writeNpy(t);
    expect(Array.from(whole)).toEqual([...header, ...data]);
  });
});

describe('saveNpy', () => {
  it('writes atomically and leaves no temp file', () => {
    const path = join(tmp, 'a.npy');
    writeFileSync(path, 'old content');
    saveNpy(path, samples[0]);
    expect(loadNpy(path)).toEqual(samples[0]);
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reports an unwritable folder with an InputError and leaves nothing behind', () => {
    expect(() => saveNpy(join(tmp, 'no-such-dir', 'a.npy'), samples[0])).toThrow(InputError);
  });

  it('writes files numpy reads back exactly', () => {
    const python = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
    if (python.error || python.status !== 0) {
      console.warn('npy.test: python3 with numpy not found; numpy-compatibility case not checked');
      return;
    }
    const files = samples.map((t, i) => {
      const path = join(tmp, `s${i}.npy`);
      saveNpy(path, t);
      return path;
    });
    // numpy prints dtype, shape and the values as repr'd Python numbers; compare against ours.
    const script = [
      'import sys, json, numpy as np',
      'out = []',
      'for p in sys.argv[1:]:',
      '    a = np.load(p)',
      "    vals = [bool(v) if a.dtype == np.bool_ else (str(int(v)) if a.dtype.kind in 'iu' else float(v)) for v in a.ravel()]",
      "    out.append({'dtype': str(a.dtype), 'shape': list(a.shape), 'values': vals})",
      'print(json.dumps(out))',
    ].join('\n');
    const run = spawnSync('python3', ['-c', script, ...files], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const got = JSON.parse(run.stdout) as { dtype: string; shape: number[]; values: unknown[] }[];
    got.forEach((g, i) => {
      const t = samples[i];
      expect(g.dtype).toBe(t.dtype);
      expect(g.shape).toEqual(t.shape);
      const want = Array.from(t.data as ArrayLike<number | bigint>, (v) =>
        t.dtype === 'bool' ? v === 1 : t.dtype.startsWith('float') ? Number(v) : String(v),
      );
      // JSON has no -0; numpy's float(-0.0) serialises as -0.0 which parses to -0.
      expect(g.values).toEqual(want);
    });
  });
});
