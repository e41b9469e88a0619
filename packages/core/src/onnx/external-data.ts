import { closeSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { ModelLoadError } from '../errors.js';
import { MAX_FILE_BYTES, openRegularFile, readRange } from '../files.js';
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

  // Only the tensor's own bytes are read (a model may point a small tensor at a huge file), and a
  // FIFO or device is refused without blocking on it.
  const need = expectedBytes(tp, what);
  const { fd, size } = openRegularFile(real, (why) => new ModelLoadError(`${what}: external data '${location}': ${why}`));
  try {
    const n = length ?? need;
    if (need !== undefined && n !== need) {
      throw new ModelLoadError(`${what}: external data 'length' is ${n} bytes, but the tensor's shape and type need ${need}`);
    }
    if (n === undefined) throw new ModelLoadError(`${what}: external data has no 'length' and an element type of unknown size`);
    if (n > MAX_FILE_BYTES) throw new ModelLoadError(`${what}: external data of ${n} bytes is more than the ${MAX_FILE_BYTES} one tensor may hold`);
    if (offset + n > size) {
      throw new ModelLoadError(`${what}: external data '${location}' is ${size} bytes, but offset ${offset} + length ${n} reaches past its end`);
    }
    return readRange(fd, offset, n, (why) => new ModelLoadError(`${what}: external data '${location}': ${why}`));
  } finally {
    closeSync(fd);
  }
}

/** Bytes of a tensor of the proto's shape and element type; undefined for a type whose size is unknown here. */
function expectedBytes(tp: OnnxTensorProto, what: string): number | undefined {
  const itemSize = ITEM_BYTES[tp.data_type];
  if (itemSize === undefined) return undefined;
  let count = 1;
  for (const d of tp.dims) {
    const n = Number(d);
    if (!Number.isSafeInteger(n) || n < 0) throw new ModelLoadError(`${what} has an invalid shape [${tp.dims.join(',')}]`);
    count *= n;
    if (count * itemSize > MAX_FILE_BYTES) throw new ModelLoadError(`${what}: a tensor of shape [${tp.dims.join(',')}] is more than ${MAX_FILE_BYTES} bytes`);
  }
  return count * itemSize;
}

/** ONNX element type → bytes per element (TensorProto.DataType). */
const ITEM_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

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
