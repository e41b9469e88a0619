import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { ModelLoadError } from '../errors.js';
import type { OnnxTensorProto } from './onnx.proto.js';

/**
 * Reads the bytes of a tensor stored in an external file. The location must stay inside the
 * model's folder: a model file is untrusted input, and `../../etc/passwd` or a symlink out of
 * the folder would otherwise let it read any file the user can.
 */
export function readExternalData(tp: OnnxTensorProto, baseDir: string, what: string): Uint8Array {
  const entries = new Map(tp.external_data.map((e) => [e.key, e.value]));
  const location = entries.get('location');
  if (!location) throw new ModelLoadError(`${what} is marked as external data but has no 'location'`);
  const offset = parseSize(entries.get('offset'), 0, what, 'offset');
  const length = entries.has('length') ? parseSize(entries.get('length'), 0, what, 'length') : undefined;

  const escapes = () =>
    new ModelLoadError(`${what}: external data path '${location}' leaves the model's folder; refused`);
  if (path.isAbsolute(location) || path.win32.isAbsolute(location) || location.includes('\0')) throw escapes();
  let root: string;
  try {
    root = realpathSync(baseDir);
  } catch {
    throw new ModelLoadError(`${what}: model folder '${baseDir}' does not exist`);
  }
  const lexical = path.resolve(root, location);
  if (!isInside(root, lexical)) throw escapes();
  let real: string;
  try {
    real = realpathSync(lexical);
  } catch {
    throw new ModelLoadError(`${what}: external data file '${location}' not found next to the model`);
  }
  if (!isInside(root, real)) throw escapes();

  const fd = openSync(real, 'r');
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new ModelLoadError(`${what}: external data '${location}' is not a file`);
    const n = length ?? stat.size - offset;
    if (offset + n > stat.size || n < 0) {
      throw new ModelLoadError(`${what}: external data '${location}' is ${stat.size} bytes, but offset ${offset} + length ${n} reaches past its end`);
    }
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const got = readSync(fd, out, done, n - done, offset + done);
      if (got <= 0) break;
      done += got;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

function parseSize(v: string | undefined, fallback: number, what: string, key: string): number {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v.trim())) throw new ModelLoadError(`${what}: external data '${key}' is not a byte count: '${v}'`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new ModelLoadError(`${what}: external data '${key}' is too large`);
  return n;
}
