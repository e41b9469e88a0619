import pngjs from 'pngjs';

/** An RGB raster as PNG bytes (pngjs: a maintained encoder rather than our own chunk writer). */
export function encodePng(width: number, height: number, rgb: Uint8Array): Uint8Array {
  const png = new pngjs.PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  // One fixed filter (Sub) instead of pngjs's per-row trial of all five: 5× faster, and these
  // flat-coloured maps compress about as well either way.
  return new Uint8Array(pngjs.PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, filterType: 1 }));
}

/** `data:` URL of PNG bytes, for the self-contained HTML report. */
export function pngDataUrl(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}
