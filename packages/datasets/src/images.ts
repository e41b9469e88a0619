import { InputError } from '@blameboard/core';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** A decoded PNG or JPEG: RGBA, four values per pixel, row-major. */
export interface DecodedImage {
  format: 'png' | 'jpeg';
  width: number;
  height: number;
  rgba: Uint8Array | Uint16Array;
  /** Full intensity: 255, or 65535 for 16-bit PNGs (read at full precision). */
  max: number;
}

/** Pixels beyond this are refused before decoding (jpeg-js's own default limit; a PNG header is checked first). */
export const MAX_MEGAPIXELS = 100;

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_MAGIC.every((m, i) => bytes[i] === m);
}

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

function tooLarge(name: string, width: number, height: number): never {
  throw new InputError(`image '${name}' is ${width}×${height}, more than ${MAX_MEGAPIXELS} megapixels`);
}

/**
 * Decodes a PNG (pngjs: every colour type and bit depth, palettes, tRNS transparency, interlacing;
 * 16-bit kept at full precision) or a baseline/progressive JPEG (jpeg-js; grayscale, YCbCr,
 * Adobe CMYK). The format is read from the bytes, not the file name. EXIF orientation is not
 * applied and PNG gamma is ignored, as PIL and torchvision do by default. A damaged or
 * truncated file is a one-line InputError naming it.
 */
export function decodeImage(bytes: Uint8Array, name: string): DecodedImage {
  if (isPng(bytes)) {
    if (bytes.length >= 24) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const width = view.getUint32(16);
      const height = view.getUint32(20);
      if (width * height > MAX_MEGAPIXELS * 1e6) tooLarge(name, width, height);
    }
    let png: ReturnType<typeof PNG.sync.read>;
    try {
      // skipRescale keeps 16-bit samples (a Uint16Array) and leaves 1/2/4-bit gray values unscaled.
      png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true });
    } catch (e) {
      throw new InputError(`image '${name}' is not a readable PNG (${e instanceof Error ? e.message : String(e)})`);
    }
    const rgba = png.data as unknown as Uint8Array | Uint16Array;
    if (rgba.length !== png.width * png.height * 4) throw new InputError(`image '${name}' decoded to ${rgba.length} values, not ${png.width}×${png.height}×4`);
    // Palette entries are 8-bit; gray and colour samples keep their depth.
    let max = 255;
    if (png.depth === 16) max = 65535;
    else if (png.depth < 8 && !png.palette) max = 2 ** png.depth - 1;
    return { format: 'png', width: png.width, height: png.height, rgba: rgba instanceof Uint16Array ? rgba : new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.length), max };
  }
  if (isJpeg(bytes)) {
    let image: { width: number; height: number; data: Uint8Array };
    try {
      // tolerantDecoding off: a truncated file is an error, not an image with grey blocks.
      image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: 2048 });
    } catch (e) {
      throw new InputError(`image '${name}' is not a readable JPEG (${e instanceof Error ? e.message : String(e)})`);
    }
    if (image.width < 1 || image.height < 1 || image.data.length !== image.width * image.height * 4) {
      throw new InputError(`image '${name}' is not a readable JPEG (decoded to ${image.width}×${image.height})`);
    }
    return { format: 'jpeg', width: image.width, height: image.height, rgba: image.data, max: 255 };
  }
  throw new InputError(`'${name}' is neither PNG nor JPEG data`);
}

/** True when every pixel has R = G = B (a grayscale image, whatever colour type stores it). */
export function isGray(image: DecodedImage): boolean {
  const d = image.rgba;
  for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i] !== d[i + 2]) return false;
  return true;
}

/** True when no pixel is transparent at all. */
export function isOpaque(image: DecodedImage): boolean {
  const d = image.rgba;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== image.max) return false;
  return true;
}
