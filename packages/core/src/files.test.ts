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
