import { deflateSync } from 'node:zlib';
import { sizeOf, type Tensor } from '@blameboard/core';

/**
 * Renders attributions as a PNG people can look at: one row per sample, the input in grey beside
 * its heatmap (red = evidence for the target, blue = against, white = none; each map scaled by its
 * own max |R|). Images sum relevance over channels; vectors are drawn as one strip per sample.
 */
export function renderHeatmaps(inputs: Tensor, attributions: Tensor, opts: { maxSamples?: number; scale?: number } = {}): Uint8Array {
  const n = Math.min(inputs.shape[0], opts.maxSamples ?? 16);
  const sample = inputs.shape.slice(1);
  const [h, w] = sample.length >= 2 ? sample.slice(-2) : [1, sample[0]];
  const channels = sizeOf(sample) / (h * w);
  const scale = opts.scale ?? (h === 1 ? Math.max(1, Math.floor(512 / w)) : Math.max(1, Math.floor(112 / Math.max(h, w))));
  const gap = 2 * scale;
  const cellW = w * scale;
  const cellH = (h === 1 ? 12 : h) * scale;
  const width = 2 * cellW + 3 * gap;
  const height = n * (cellH + gap) + gap;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  const per = sizeOf(sample);
  const x = inputs.data as Float32Array;
  const r = attributions.data as Float32Array;

  for (let s = 0; s < n; s++) {
    const heat = new Float64Array(h * w);
    const grey = new Float64Array(h * w);
    for (let c = 0; c < channels; c++) {
      for (let p = 0; p < h * w; p++) {
        heat[p] += r[s * per + c * h * w + p];
        grey[p] += x[s * per + c * h * w + p] / channels;
      }
    }
    let lo = Infinity;
    let hi = -Infinity;
    let peak = 0;
    for (let p = 0; p < h * w; p++) {
      lo = Math.min(lo, grey[p]);
      hi = Math.max(hi, grey[p]);
      if (Number.isFinite(heat[p])) peak = Math.max(peak, Math.abs(heat[p]));
    }
    const top = gap + s * (cellH + gap);
    for (let p = 0; p < h * w; p++) {
      const g = hi > lo ? Math.round((255 * (grey[p] - lo)) / (hi - lo)) : 128;
      const v = peak > 0 && Number.isFinite(heat[p]) ? heat[p] / peak : 0;
      const color = diverging(v);
      const row = Math.floor(p / w);
      const col = p % w;
      for (let dy = 0; dy < (h === 1 ? cellH : scale); dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const yy = top + (h === 1 ? 0 : row * scale) + dy;
          paint(rgb, width, gap + col * scale + dx, yy, [g, g, g]);
          paint(rgb, width, 2 * gap + cellW + col * scale + dx, yy, color);
        }
      }
    }
  }
  return encodePng(width, height, rgb);
}

/** −1 → blue, 0 → white, +1 → red. */
function diverging(v: number): [number, number, number] {
  const t = Math.max(-1, Math.min(1, v));
  const fade = Math.round(255 * (1 - Math.abs(t)));
  return t >= 0 ? [255, fade, fade] : [fade, fade, 255];
}

function paint(rgb: Uint8Array, width: number, x: number, y: number, c: [number, number, number]): void {
  const i = (y * width + x) * 3;
  rgb[i] = c[0];
  rgb[i + 1] = c[1];
  rgb[i + 2] = c[2];
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A minimal 8-bit RGB PNG encoder (no dependency, no network). */
export function encodePng(width: number, height: number, rgb: Uint8Array): Uint8Array {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}
