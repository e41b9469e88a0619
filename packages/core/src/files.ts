import { randomBytes } from 'node:crypto';
import { renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InputError } from './errors.js';

/** A result written to a temp file beside its target, renamed into place only on `commit`. */
export interface StagedFile {
  path: string;
  commit(): void;
  abort(): void;
}

/**
 * Writes `data` next to `path` without touching `path` itself. A failure (missing folder, a
 * folder in the way, no permission) is a one-line InputError and leaves no temp file behind, so
 * a command that writes several results can stage them all and commit none if one fails.
 */
export function stageFile(path: string, data: string | Uint8Array): StagedFile {
  // A directory in the way would only fail at rename, after other files of the batch are in place.
  let existing;
  try {
    existing = statSync(path);
  } catch {
    existing = null;
  }
  if (existing && !existing.isFile()) throw new InputError(`cannot write '${path}': it is ${existing.isDirectory() ? 'a directory' : 'not a regular file'}`);
  // The temp name does not grow with the target's: a name of 255 bytes stays writable.
  const tmp = join(dirname(path), `.bb-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  const removeTmp = () => {
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
  };
  try {
    writeFileSync(tmp, data);
  } catch (e) {
    removeTmp();
    throw new InputError(`cannot write '${path}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return {
    path,
    commit() {
      try {
        renameSync(tmp, path);
      } catch (e) {
        removeTmp();
        throw new InputError(`cannot write '${path}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
    },
    abort: removeTmp,
  };
}

/** Stages every file first and renames them only when all were written: all results or none. */
export function writeFilesAtomic(files: { path: string; data: string | Uint8Array }[]): void {
  const seen = new Set<string>();
  for (const f of files) {
    const abs = resolve(f.path);
    if (seen.has(abs)) throw new InputError(`'${f.path}' is given for two different results; give each its own file`);
    seen.add(abs);
  }
  const staged: StagedFile[] = [];
  try {
    for (const f of files) staged.push(stageFile(f.path, f.data));
  } catch (e) {
    for (const s of staged) s.abort();
    throw e;
  }
  for (const s of staged) s.commit();
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeFilesAtomic([{ path, data }]);
}
