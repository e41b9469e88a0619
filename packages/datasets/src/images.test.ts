import { InputError } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { decodeImage, isGray, isOpaque } from './images.js';
import { encodeJpeg, encodePng, rawPng } from '@blameboard/testing/images';

const pixel = (img: ReturnType<typeof decodeImage>, i: number) => Array.from(img.rgba.subarray(4 * i, 4 * i + 4));

describe('decodeImage: PNG (pngjs)', () => {
  it('reads 8-bit gray, RGB and RGBA pixel values exactly', () => {
    const gray = decodeImage(encodePng(3, 2, [0, 1, 2, 128, 254, 255], 1), 'g.png');
    expect([gray.format, gray.width, gray.height, gray.max]).toEqual(['png', 3, 2, 255]);
    expect([0, 1, 2, 3, 4, 5].map((i) => pixel(gray, i))).toEqual([0, 1, 2, 128, 254, 255].map((v) => [v, v, v, 255]));
    expect([isGray(gray), isOpaque(gray)]).toEqual([true, true]);

    const rgb = decodeImage(encodePng(2, 1, [10, 20, 30, 200, 100, 0], 3), 'c.png');
    expect([pixel(rgb, 0), pixel(rgb, 1)]).toEqual([[10, 20, 30, 255], [200, 100, 0, 255]]);
    expect([isGray(rgb), isOpaque(rgb)]).toEqual([false, true]);

    const rgba = decodeImage(encodePng(1, 1, [5, 6, 7, 128], 4), 'a.png');
    expect(pixel(rgba, 0)).toEqual([5, 6, 7, 128]);
    expect(isOpaque(rgba)).toBe(false);
  });

  it('keeps 16-bit samples at full precision', () => {
    const img = decodeImage(encodePng(2, 1, [1000, 65535], 1, 16), 'deep.png');
    expect(img.max).toBe(65535);
    expect(img.rgba).toBeInstanceOf(Uint16Array);
    expect([pixel(img, 0), pixel(img, 1)]).toEqual([[1000, 1000, 1000, 65535], [65535, 65535, 65535, 65535]]);
  });

  it('scales 1-bit gray by its own maximum and reads palette colours as 8-bit', () => {
    // 1-bit gray, 3 pixels: 1 0 1 packed in the high bits of one byte.
    const bits = decodeImage(rawPng(3, 1, 1, 0, [Uint8Array.from([0b10100000])]), 'bits.png');
    expect(bits.max).toBe(1);
    expect([0, 1, 2].map((i) => pixel(bits, i)[0])).toEqual([1, 0, 1]);
    expect(isOpaque(bits)).toBe(true);
    // 8-bit palette of two colours, pixels 1 0.
    const palette = Uint8Array.from([255, 0, 0, 0, 64, 200]);
    const indexed = decodeImage(rawPng(2, 1, 8, 3, [Uint8Array.from([1, 0])], [['PLTE', palette]]), 'pal.png');
    expect(indexed.max).toBe(255);
    expect([pixel(indexed, 0), pixel(indexed, 1)]).toEqual([[0, 64, 200, 255], [255, 0, 0, 255]]);
  });

  it('marks a tRNS transparent colour as transparent', () => {
    // 8-bit gray where value 7 is transparent.
    const img = decodeImage(rawPng(2, 1, 8, 0, [Uint8Array.from([7, 9])], [['tRNS', Uint8Array.from([0, 7])]]), 't.png');
    expect(isOpaque(img)).toBe(false);
  });
});

describe('decodeImage: JPEG (jpeg-js)', () => {
  it('decodes a quality-100 JPEG within the codec error of the pixels it encoded, grey staying grey', () => {
    const w = 16;
    const h = 8;
    const rgb = Array.from({ length: w * h * 3 }, (_, i) => {
      const p = Math.floor(i / 3);
      return [60 + (p % w) * 4, 120, 200 - Math.floor(p / w) * 10][i % 3];
    });
    const img = decodeImage(encodeJpeg(w, h, rgb), 'c.jpg');
    expect([img.format, img.width, img.height, img.max]).toEqual(['jpeg', w, h, 255]);
    let worst = 0;
    for (let p = 0; p < w * h; p++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(img.rgba[4 * p + c] - rgb[3 * p + c]));
    expect(worst).toBeLessThanOrEqual(3);
    expect(isOpaque(img)).toBe(true);

    const grey = Array.from({ length: w * h * 3 }, (_, i) => Math.floor(i / 3) * 2);
    expect(isGray(decodeImage(encodeJpeg(w, h, grey, 90), 'g.jpg'))).toBe(true);
  });
});

describe('decodeImage refusals', () => {
  const reason = (bytes: Uint8Array, name: string): string => {
    try {
      decodeImage(bytes, name);
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).not.toContain('\n');
      return (e as Error).message;
    }
    throw new Error('expected an InputError');
  };

  it('refuses truncated PNG and JPEG data and bytes that are neither', () => {
    const png = encodePng(8, 8, new Array(64).fill(9), 1);
    expect(reason(png.subarray(0, png.length - 20), 'cut.png')).toMatch(/image 'cut\.png' is not a readable PNG/);
    const jpg = encodeJpeg(16, 16, new Array(16 * 16 * 3).fill(0).map((_, i) => (i * 7) % 256));
    expect(reason(jpg.subarray(0, Math.floor(jpg.length / 2)), 'cut.jpg')).toMatch(/image 'cut\.jpg' is not a readable JPEG/);
    expect(reason(new TextEncoder().encode('GIF89a, say'), 'x.png')).toMatch(/'x\.png' is neither PNG nor JPEG data/);
  });

  it('refuses an image header announcing more than 100 megapixels before decoding it', () => {
    const header = rawPng(1, 1, 8, 0, [Uint8Array.from([0])]);
    const big = Uint8Array.from(header);
    new DataView(big.buffer).setUint32(16, 20000);
    new DataView(big.buffer).setUint32(20, 20000);
    expect(reason(big, 'huge.png')).toMatch(/20000×20000, more than 100 megapixels/);
  });
});
