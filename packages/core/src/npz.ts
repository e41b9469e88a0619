import { inflateRawSync } from 'node:zlib';
import { InputError } from './errors.js';
import { MAX_FILE_BYTES, readRegularFile } from './files.js';
import { readNpy } from './npy.js';
import type { Tensor } from './tensor.js';

/**
 * NumPy `.npz` files: a ZIP archive of `.npy` entries, as `np.savez` (stored) and
 * `np.savez_compressed` (deflated) write them, ZIP64 records included (numpy writes every entry
 * with ZIP64 local headers). Read from the central directory with node:zlib; each entry's CRC-32 is
 * checked so a damaged file is refused rather than read as wrong numbers.
 */

function fail(message: string): never {
  throw new InputError(`.npz: ${message}`);
}

interface ZipEntry {
  /** The array name: the entry's file name without `.npy`. */
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_EOCD_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;

/** A 64-bit little-endian field that must fit a JS number (arrays above 8 PiB do not exist here). */
function u64(view: DataView, at: number): number {
  const value = view.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) fail('a ZIP64 size or offset is out of range');
  return Number(value);
}

function readEntries(bytes: Uint8Array): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record is the last 22 bytes, unless a comment (≤ 65,535 bytes) follows it.
  let eocd = -1;
  for (let at = bytes.length - 22; at >= 0 && at >= bytes.length - 22 - 0xffff; at--) {
    if (view.getUint32(at, true) === EOCD) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) fail('not a ZIP archive (no end-of-central-directory record; truncated?)');
  let count = view.getUint16(eocd + 10, true);
  let directorySize = view.getUint32(eocd + 12, true);
  let directoryOffset = view.getUint32(eocd + 16, true);
  if (eocd >= 20 && view.getUint32(eocd - 20, true) === ZIP64_EOCD_LOCATOR) {
    const at = u64(view, eocd - 12);
    if (at + 56 > bytes.length || view.getUint32(at, true) !== ZIP64_EOCD) fail('damaged ZIP64 end-of-central-directory record');
    count = u64(view, at + 32);
    directorySize = u64(view, at + 40);
    directoryOffset = u64(view, at + 48);
  }
  if (directoryOffset + directorySize > bytes.length) fail('truncated central directory');
  const entries: ZipEntry[] = [];
  let at = directoryOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== CENTRAL_HEADER) fail('damaged central directory');
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    let compressedSize = view.getUint32(at + 20, true);
    let size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    let localHeaderOffset = view.getUint32(at + 42, true);
    if (at + 46 + nameLength + extraLength + commentLength > bytes.length) fail('damaged central directory');
    const fileName = new TextDecoder('utf-8').decode(bytes.subarray(at + 46, at + 46 + nameLength));
    // ZIP64 extra field (id 1): the 64-bit values of exactly those fields that hold 0xFFFFFFFF, in this order.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = view.getUint16(extra, true);
      const length = view.getUint16(extra + 2, true);
      if (extra + 4 + length > extraEnd) fail(`entry '${fileName}' has a damaged extra field`);
      if (id === 1) {
        let field = extra + 4;
        const next = (): number => {
          if (field + 8 > extra + 4 + length) fail(`entry '${fileName}' has a short ZIP64 extra field`);
          const v = u64(view, field);
          field += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
      }
      extra += 4 + length;
    }
    // An array is read whole, like an .npy: no larger than the largest file Blameboard reads.
    if (size > MAX_FILE_BYTES) fail(`array '${fileName}' declares ${size} bytes, more than the ${MAX_FILE_BYTES} an array may hold`);
    entries.push({ name: fileName.replace(/\.npy$/, ''), method, flags, crc, compressedSize, size, localHeaderOffset });
    at = extraEnd + commentLength;
  }
  return entries;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function entryBytes(bytes: Uint8Array, e: ZipEntry): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (e.flags & 1) fail(`array '${e.name}' is encrypted`);
  const at = e.localHeaderOffset;
  if (at + 30 > bytes.length || view.getUint32(at, true) !== LOCAL_HEADER) fail(`array '${e.name}': damaged local header`);
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  if (start + e.compressedSize > bytes.length) fail(`array '${e.name}' is truncated`);
  const stored = bytes.subarray(start, start + e.compressedSize);
  let data: Uint8Array;
  if (e.method === 0) data = stored;
  else if (e.method === 8) {
    try {
      // Capped at the declared size, so a crafted entry cannot inflate without bound.
      data = inflateRawSync(stored, { maxOutputLength: Math.max(1, e.size) });
    } catch (err) {
      fail(`array '${e.name}' cannot be inflated (${(err as Error).message})`);
    }
  } else fail(`array '${e.name}' uses ZIP compression method ${e.method}; numpy writes 0 (np.savez) or 8 (np.savez_compressed)`);
  if (data.length !== e.size || crc32(data) !== e.crc) fail(`array '${e.name}' is damaged (size or CRC-32 mismatch)`);
  return data;
}

/** The array names of an `.npz`, in archive order (numpy's `np.load(f).files`). */
export function npzArrayNames(bytes: Uint8Array): string[] {
  return readEntries(bytes).map((e) => e.name);
}

/**
 * One array of an `.npz`: the one named `name`, or the only one when `name` is omitted. A missing
 * name or an ambiguous archive is a one-line error listing the arrays it holds.
 */
export function readNpz(bytes: Uint8Array, name?: string): { name: string; tensor: Tensor } {
  const entries = readEntries(bytes);
  if (entries.length === 0) fail('the archive holds no arrays');
  const names = entries.map((e) => `'${e.name}'`).join(', ');
  let entry: ZipEntry | undefined;
  if (name === undefined) {
    if (entries.length > 1) fail(`the archive holds ${entries.length} arrays (${names}); name one`);
    entry = entries[0];
  } else {
    entry = entries.find((e) => e.name === name);
    if (!entry) fail(`no array '${name}'; the archive holds ${names}`);
  }
  try {
    return { name: entry.name, tensor: readNpy(entryBytes(bytes, entry)) };
  } catch (e) {
    if (e instanceof InputError && !e.message.startsWith('.npz')) fail(`array '${entry.name}': ${e.message}`);
    throw e;
  }
}

/** Reads one array of an `.npz` file (see `readNpz`); errors name the file. */
export function loadNpz(path: string, name?: string): { name: string; tensor: Tensor } {
  const bytes = readRegularFile(path, (why) => new InputError(`cannot read '${path}': ${why}`));
  try {
    return readNpz(bytes, name);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${path}: ${e.message}`);
    throw e;
  }
}
