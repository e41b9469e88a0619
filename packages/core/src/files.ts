import { randomBytes } from 'node:crypto';
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
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
