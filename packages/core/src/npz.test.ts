import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InputError } from './errors.js';
import { loadNpz, npzArrayNames, readNpz } from './npz.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'npz');
const bytesOf = (name: string) => new Uint8Array(readFileSync(join(fixtures, name)));

// The formulas below mirror fixtures/npz/make.py (numpy 2.4 wrote the files), computed here without numpy.
describe('readNpz on files numpy wrote', () => {
  it('reads the only array of a stored archive (np.savez) without a name', () => {
    const { name, tensor } = loadNpz(join(fixtures, 'single-stored.npz'));
    expect(name).toBe('x');
    expect([tensor.dtype, tensor.shape]).toEqual(['float32', [2, 3]]);
    expect(Array.from(tensor.data as Float32Array)).toEqual(Array.from({ length: 6 }, (_, i) => (i - 5) / 4));
  });

  it('reads named arrays of a deflated archive (np.savez_compressed)', () => {
    const bytes = bytesOf('images-labels-deflated.npz');
    expect(npzArrayNames(bytes)).toEqual(['images', 'labels']);
    const images = readNpz(bytes, 'images').tensor;
    expect([images.dtype, images.shape]).toEqual(['float32', [2, 1, 4, 4]]);
    // numpy's sin and V8's may differ in the last float64 bit, which float32 rounding almost always hides.
    (images.data as Float32Array).forEach((v, i) => expect(Math.abs(v - Math.fround(Math.sin(i)))).toBeLessThanOrEqual(6e-8));
    const labels = readNpz(bytes, 'labels').tensor;
    expect([labels.dtype, labels.shape, Array.from(labels.data as BigInt64Array)]).toEqual(['int64', [2], [3n, 1n]]);
  });

  it("reads numpy's positional names and a larger deflated array", () => {
    const positional = bytesOf('positional.npz');
    expect(npzArrayNames(positional)).toEqual(['arr_0', 'arr_1']);
    const a0 = readNpz(positional, 'arr_0').tensor;
    expect([a0.dtype, Array.from(a0.data as Float64Array)]).toEqual(['float64', [0, 0.5, 1, 1.5]]);
    const ramp = readNpz(bytesOf('ramp-deflated.npz')).tensor;
    expect(ramp.shape).toEqual([3, 1, 28, 28]);
    expect(Array.from(ramp.data as Float32Array)).toEqual(Array.from({ length: 3 * 784 }, (_, i) => Math.fround((i % 256) / 255)));
  });
});

describe('readNpz refusals', () => {
  const message = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).not.toContain('\n');
      return (e as Error).message;
    }
    throw new Error('expected an InputError');
  };

  it('asks for a name when several arrays are stored, and lists them for an unknown name', () => {
    const bytes = bytesOf('images-labels-deflated.npz');
    expect(message(() => readNpz(bytes))).toMatch(/2 arrays \('images', 'labels'\); name one/);
    expect(message(() => readNpz(bytes, 'pixels'))).toMatch(/no array 'pixels'; the archive holds 'images', 'labels'/);
  });

  it('refuses a changed byte in stored and in deflated data (CRC-32), a truncated file and a non-ZIP file', () => {
    const stored = bytesOf('single-stored.npz');
    // The last data byte of the only entry sits just before the central directory.
    const cdOffset = new DataView(stored.buffer).getUint32(stored.length - 22 + 16, true);
    const flipped = stored.slice();
    flipped[cdOffset - 1] ^= 0x01;
    expect(message(() => readNpz(flipped))).toMatch(/array 'x' is damaged \(size or CRC-32 mismatch\)/);

    const deflated = bytesOf('ramp-deflated.npz');
    const cd = new DataView(deflated.buffer).getUint32(deflated.length - 22 + 16, true);
    const broken = deflated.slice();
    broken[cd - 40] ^= 0xff;
    expect(message(() => readNpz(broken))).toMatch(/array 'x' (is damaged|cannot be inflated)/);

    expect(message(() => readNpz(stored.subarray(0, stored.length - 30)))).toMatch(/not a ZIP archive/);
    expect(message(() => readNpz(new TextEncoder().encode('just some text, not an archive at all')))).toMatch(/not a ZIP archive/);
    expect(message(() => loadNpz(join(fixtures, 'missing.npz')))).toMatch(/cannot read .*missing\.npz.*no such file/);
  });
});

describe('readNpz on damaged central directories', () => {
  const message = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      return (e as Error).message;
    }
    throw new Error('accepted');
  };

  it('refuses an extra field or a name that runs past the end, and an entry declaring more than 2 GiB, with one line', () => {
    const stored = bytesOf('single-stored.npz');
    const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
    const cd = view(stored).getUint32(stored.length - 22 + 16, true);
    const longExtra = stored.slice();
    view(longExtra).setUint16(cd + 30, 0xfff0, true);
    expect(message(() => readNpz(longExtra))).toMatch(/^\.npz: damaged central directory$/);
    const huge = stored.slice();
    view(huge).setUint32(cd + 24, 0xfffffff0, true);
    expect(message(() => readNpz(huge))).toMatch(/declares 4294967280 bytes, more than the 2147483648 an array may hold/);
  });
});
