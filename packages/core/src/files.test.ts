import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from './errors.js';
import { writeFileAtomic, writeFilesAtomic } from './files.js';

describe('atomic writes', () => {
  it('writes a file whole and leaves no temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bb-files-'));
    writeFileAtomic(join(dir, 'a.json'), '{"ok":true}');
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe('{"ok":true}');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('writes bytes given in parts one after the other, and a part larger than one write', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bb-files-'));
    const big = Uint8Array.from({ length: 3 << 20 }, (_, i) => (i * 7) & 255);
    const parts = [Uint8Array.from([1, 2, 3]), new Uint8Array(0), big.subarray(5)];
    writeFileAtomic(join(dir, 'a.bin'), parts);
    const back = readFileSync(join(dir, 'a.bin'));
    expect(back.length).toBe(3 + big.length - 5);
    expect(Array.from(back.subarray(0, 3))).toEqual([1, 2, 3]);
    expect(Buffer.compare(back.subarray(3), big.subarray(5))).toBe(0);
    expect(readdirSync(dir)).toEqual(['a.bin']);
  });

  it('refuses a missing folder or a folder in the way with one line, and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bb-files-'));
    mkdirSync(join(dir, 'taken'));
    for (const path of [join(dir, 'missing', 'a.json'), join(dir, 'taken')]) {
      const error = (() => {
        try {
          writeFileAtomic(path, 'x');
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).toContain(path);
    }
    expect(readdirSync(dir)).toEqual(['taken']);
  });

  it('commits several results only when every one could be written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bb-files-'));
    writeFileSync(join(dir, 'old.npy'), 'previous');
    expect(() =>
      writeFilesAtomic([
        { path: join(dir, 'old.npy'), data: 'new' },
        { path: join(dir, 'nope', 'b.json'), data: '{}' },
      ]),
    ).toThrow(InputError);
    expect(readFileSync(join(dir, 'old.npy'), 'utf8')).toBe('previous');
    expect(readdirSync(dir)).toEqual(['old.npy']);
    writeFilesAtomic([
      { path: join(dir, 'old.npy'), data: 'new' },
      { path: join(dir, 'b.json'), data: '{}' },
    ]);
    expect(readFileSync(join(dir, 'old.npy'), 'utf8')).toBe('new');
    expect(existsSync(join(dir, 'b.json'))).toBe(true);
  });
});
