import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { float32 } from '@blameboard/core';
import { renderHeatmaps } from './heatmap.js';

function decode(png: Uint8Array) {
  const buf = Buffer.from(png);
  expect(buf.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  const idat: Buffer[] = [];
  for (let at = 8; at < buf.length; ) {
    const len = buf.readUInt32BE(at);
    if (buf.toString('ascii', at + 4, at + 8) === 'IDAT') idat.push(buf.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const pixel = (x: number, y: number) => Array.from(raw.subarray(y * (width * 3 + 1) + 1 + x * 3, y * (width * 3 + 1) + 4 + x * 3));
  return { width, height, pixel };
}

describe('renderHeatmaps', () => {
  it('draws the input in grey beside a red/blue map scaled by its own max |R|', () => {
    const x = float32([1, 1, 2, 2], [0, 1, 0, 1]);
    const r = float32([1, 1, 2, 2], [2, -2, 0, 1]);
    const png = decode(renderHeatmaps(x, r, { scale: 1 }));
    // Layout with scale 1: gap 2, cells 2 px → width 2·2 + 3·2 = 10, height 2 + (2 + 2) = 6.
    expect([png.width, png.height]).toEqual([10, 6]);
    expect(png.pixel(2, 2)).toEqual([0, 0, 0]); // input 0 → black
    expect(png.pixel(3, 2)).toEqual([255, 255, 255]); // input 1 → white
    const heatLeft = 2 + 2 + 2;
    expect(png.pixel(heatLeft, 2)).toEqual([255, 0, 0]); // +max → red
    expect(png.pixel(heatLeft + 1, 2)).toEqual([0, 0, 255]); // −max → blue
    expect(png.pixel(heatLeft, 3)).toEqual([255, 255, 255]); // 0 → white
    expect(png.pixel(heatLeft + 1, 3)).toEqual([255, 128, 128]); // +½ max → half red
  });
});
