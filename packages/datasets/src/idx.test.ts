import { describe, expect, it } from 'vitest';
import { DatasetError, encodeIdx, parseIdx } from './idx.js';

describe('parseIdx', () => {
  it('reads dimensions big-endian and returns the data in order', () => {
    const data = Uint8Array.from({ length: 2 * 3 * 300 }, (_, i) => i % 251);
    const parsed = parseIdx(encodeIdx([2, 3, 300], data));
    expect(parsed.dims).toEqual([2, 3, 300]);
    expect(Array.from(parsed.data)).toEqual(Array.from(data));
  });

  it('decodes a hand-written header', () => {
    // magic 0x00000801: ubyte, one dimension of 3.
    const bytes = Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]);
    expect(parseIdx(bytes)).toEqual({ dims: [3], data: Uint8Array.from([7, 2, 1]) });
  });

  it.each([
    ['too short', Uint8Array.from([0, 0, 8]), /too short/],
    ['bad magic', Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 1, 5]), /not an IDX file/],
    ['unsupported element type', Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 5]), /element type 0xd/],
    ['zero dimensions', Uint8Array.from([0, 0, 8, 0]), /0 dimensions/],
    ['truncated header', Uint8Array.from([0, 0, 8, 2, 0, 0, 0, 1]), /truncated IDX header/],
    ['truncated data', Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 4, 1, 2]), /truncated IDX data/],
    ['trailing bytes', Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 1, 1, 2]), /unexpected bytes/],
  ])('rejects %s with a one-line DatasetError', (_name, bytes, message) => {
    let err: unknown;
    try {
      parseIdx(bytes, 'fixture');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toMatch(/^fixture: /);
    expect((err as Error).message).not.toContain('\n');
  });
});
