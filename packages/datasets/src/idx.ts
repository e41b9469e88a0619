import { BlameboardError } from '@blameboard/core';

/**
 * The IDX format of the MNIST distribution: two zero bytes, a type byte, the number of
 * dimensions, then one big-endian uint32 per dimension, then the data in C order. MNIST only
 * uses unsigned bytes (type 0x08), so that is the one element type read here.
 */
export interface IdxArray {
  dims: number[];
  /** Row-major data; a view into the source bytes, not a copy. */
  data: Uint8Array;
}

/** A data file that is not what it claims to be (bad magic, truncated, wrong dimensions). */
export class DatasetError extends BlameboardError {
  constructor(message: string) {
    super('DATASET', message);
    this.name = 'DatasetError';
  }
}

const UBYTE = 0x08;

export function parseIdx(bytes: Uint8Array, name = 'IDX file'): IdxArray {
  if (bytes.length < 4) throw new DatasetError(`${name}: ${bytes.length} bytes is too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DatasetError(`${name}: not an IDX file (magic starts with ${bytes[0]}, ${bytes[1]} instead of 0, 0)`);
  }
  if (bytes[2] !== UBYTE) {
    throw new DatasetError(`${name}: IDX element type 0x${bytes[2].toString(16)} is not supported (only unsigned byte, 0x08)`);
  }
  const rank = bytes[3];
  if (rank === 0) throw new DatasetError(`${name}: IDX file declares 0 dimensions`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new DatasetError(`${name}: truncated IDX header (${bytes.length} bytes, needs ${headerBytes})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    size *= d;
  }
  const available = bytes.length - headerBytes;
  if (available < size) {
    throw new DatasetError(`${name}: truncated IDX data (${available} bytes, dimensions [${dims.join(', ')}] need ${size})`);
  }
  if (available > size) {
    throw new DatasetError(`${name}: ${available - size} unexpected bytes after the IDX data of [${dims.join(', ')}]`);
  }
  return { dims, data: bytes.subarray(headerBytes, headerBytes + size) };
}

/** Builds IDX bytes (tests, and tools that cut small fixtures). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + data.length);
  const view = new DataView(out.buffer);
  out[2] = UBYTE;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, header);
  return out;
}
