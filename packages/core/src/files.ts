import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InputError } from './errors.js';

/**
 * A file's contents: text, bytes, or bytes in parts written one after the other (a `.npy` header
 * and the tensor's own memory, so a 100 MB result is not copied into one buffer first).
 */
export type FileData = string | Uint8Array | readonly Uint8Array[];

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
export function stageFile(path: string, data: FileData): StagedFile {
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
    if (typeof data === 'string' || data instanceof Uint8Array) writeFileSync(tmp, data);
    else writeParts(tmp, data);
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

function writeParts(path: string, parts: readonly Uint8Array[]): void {
  const fd = openSync(path, 'w');
  try {
    for (const part of parts) {
      for (let done = 0; done < part.length; ) done += writeSync(fd, part, done, part.length - done);
    }
  } finally {
    closeSync(fd);
  }
}

/** Stages every file first and renames them only when all were written: all results or none. */
export function writeFilesAtomic(files: { path: string; data: FileData }[]): void {
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

export function writeFileAtomic(path: string, data: FileData): void {
  writeFilesAtomic([{ path, data }]);
}

/** The largest file Blameboard reads whole (ONNX's protobuf limit; bigger weights use external data). */
export const MAX_FILE_BYTES = 2 ** 31;

/**
 * Opens a file for reading only if it is a regular file, without blocking: a FIFO opened plainly
 * waits forever for a writer, and a device (/dev/zero) never ends. Symlinks are followed (the
 * caller checks where they lead). `fail` builds the error for a refusal.
 */
export function openRegularFile(path: string, fail: (why: string) => Error): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw fail(code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (code ?? String(e)));
  }
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    throw fail(stat.isDirectory() ? 'it is a folder' : stat.isFIFO() ? 'it is a FIFO, not a regular file' : 'it is not a regular file (a device or socket?)');
  }
  return { fd, size: stat.size };
}

/**
 * Reads `length` bytes from `position` of an open file (positioned reads: nothing else is
 * loaded). A read that fails (EIO from a /proc file that stat calls regular, …) goes through `fail`.
 */
export function readRange(fd: number, position: number, length: number, fail?: (why: string) => Error): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    let got: number;
    try {
      got = readSync(fd, out, done, length - done, position + done);
    } catch (e) {
      if (!fail) throw e;
      throw fail(`it cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    if (got <= 0) break;
    done += got;
  }
  return done === length ? out : out.subarray(0, done);
}

/**
 * A whole regular file, at most `maxBytes`: anything else (a FIFO, a device, a folder, a file too
 * large to be what it claims) is refused through `fail` before a byte is read.
 */
export function readRegularFile(path: string, fail: (why: string) => Error, maxBytes = MAX_FILE_BYTES): Uint8Array {
  const { fd, size } = openRegularFile(path, fail);
  try {
    if (size > maxBytes) throw fail(`it is ${size} bytes, more than the ${maxBytes} this reads`);
    return readRange(fd, 0, size, fail);
  } finally {
    closeSync(fd);
  }
}
