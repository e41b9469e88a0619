import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { float32 } from '@blameboard/core';
import { renderHeatmaps, renderStrip } from './heatmap.js';

function decode(png: Uint8Array) {
  const img = pngjs.PNG.sync.read(Buffer.from(png));
  const pixel = (x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3));
  return { width: img.width, height: img.height, pixel };
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

  it('draws a flattened image in its image layout', () => {
    const x = float32([1, 4], [0, 1, 1, 0]);
    const png = decode(renderHeatmaps(x, x, { scale: 1, imageShape: [1, 2, 2] }));
    expect([png.width, png.height]).toEqual([10, 6]);
  });
});

describe('renderStrip', () => {
  it('puts the samples side by side, inputs in grey or maps in the same colours as explain --heatmap', () => {
    const x = float32([2, 1, 2, 2], [0, 1, 1, 1, 1, 0, 0, 0]);
    const r = float32([2, 1, 2, 2], [1, -1, 0, 0, -0.5, 0, 0, 0]);
    const inputs = decode(renderStrip(x, null, { scale: 1 }));
    const maps = decode(renderStrip(x, r, { scale: 1 }));
    // Two samples of 2×2 px with 2 px gaps: width 2 + 2·(2 + 2) = 10, height 2 + 2·2 = 6.
    expect([maps.width, maps.height]).toEqual([10, 6]);
    expect(inputs.pixel(2, 2)).toEqual([0, 0, 0]);
    expect(inputs.pixel(3, 2)).toEqual([255, 255, 255]);
    expect(maps.pixel(2, 2)).toEqual([255, 0, 0]);
    expect(maps.pixel(3, 2)).toEqual([0, 0, 255]);
    expect(maps.pixel(6, 2)).toEqual([0, 0, 255]); // sample 2: −0.5 is its own max |R|
    expect(maps.pixel(7, 2)).toEqual([255, 255, 255]);
  });
});
