import { crc32, deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/**
 * Encodes a PNG with pngjs from per-pixel values in row-major order: `channels` values per pixel
 * (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), 8- or 16-bit.
 */
export function encodePng(width: number, height: number, values: ArrayLike<number>, channels: 1 | 2 | 3 | 4, bitDepth: 8 | 16 = 8): Uint8Array {
  const colorType = ({ 1: 0, 2: 4, 3: 2, 4: 6 } as const)[channels];
  const data = bitDepth === 16 ? Buffer.from(Uint16Array.from(values).buffer) : Buffer.from(Uint8Array.from(values));
  const png = { width, height, data } as unknown as PNG;
  return PNG.sync.write(png, { colorType, inputColorType: colorType, bitDepth, inputHasAlpha: channels === 2 || channels === 4 });
}

/** Encodes RGB values (3 per pixel, row-major) as a JPEG with jpeg-js. */
export function encodeJpeg(width: number, height: number, rgb: ArrayLike<number>, quality = 100): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255], 4 * i);
  }
  return jpeg.encode({ width, height, data: rgba }, quality).data;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A PNG written byte by byte, for what pngjs cannot encode (palettes, 1-bit gray): `rows` are the
 * packed scanlines without filter bytes (filter 0 is added), `extra` chunks go before IDAT.
 */
export function rawPng(width: number, height: number, bitDepth: number, colorType: number, rows: Uint8Array[], extra: [string, Uint8Array][] = []): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  const scanlines = Buffer.concat(rows.map((r) => Buffer.concat([Buffer.from([0]), r])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...extra.map(([type, data]) => chunk(type, data)),
    chunk('IDAT', deflateSync(scanlines)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
